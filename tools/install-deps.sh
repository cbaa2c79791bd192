#!/bin/sh
# Install, from Debian's packages, whatever the build, the tests and the main
# job need and the machine lacks. Safe to run again: installed packages are
# skipped without touching apt. Extra package names may be passed.
set -eu
packages="gcc g++ clang libclang-rt-14-dev meson ninja-build pkg-config libopenblas-dev libdnnl-dev zlib1g-dev
libpng-dev libcmocka-dev python3 python3-numpy python3-pil python3-pytest python3-setuptools python3-pip python3-wheel
python3-venv python3-mypy doxygen dataset-fashion-mnist cmake abigail-tools libopenmpi-dev openmpi-bin
python3-mpi4py $*"

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
