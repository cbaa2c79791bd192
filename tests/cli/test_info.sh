#!/bin/sh
# genmodel info: the golden checkpoints print what they hold; a file
# sealed around a bad enum or range (its checksums recomputed, as a crafted
# file's would be) prints the library's error naming the field and exits 1,
# having printed nothing from the header. In a -Db_sanitize=address build
# the tool runs under ASan, so a read past a table of names fails the test.
# Usage: test_info.sh GENMODEL_TOOL TESTS_DATA_DIR
set -eu
tool=$1
data=$2
# Debian's python3 (only its standard library is used)
py=$(command -v /usr/bin/python3 || command -v python3) || { echo "SKIP: no python3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; exit 1; }

# craft SRC KEY VALUE DST: SRC with gm.config.KEY set to VALUE, resealed
craft() {
  "$py" - "$@" << 'PY'
import re, struct, sys, zlib
src, key, value, dst = sys.argv[1:]
blob = open(src, "rb").read()
(n,) = struct.unpack("<Q", blob[:8])
head, count = re.subn(b'"gm\\.config\\.' + re.escape(key.encode()) + b'":"[^"]*"',
                      b'"gm.config.' + key.encode() + b'":"' + value.encode() + b'"', blob[8:8 + n])
assert count == 1, key
field = b'"gm.crc32.header":"'
at = 8 + head.index(field) + len(field)
out = bytearray(struct.pack("<Q", len(head)) + head)
out[at:at + 8] = b"00000000"
out[at:at + 8] = b"%08x" % zlib.crc32(bytes(out))
open(dst, "wb").write(bytes(out) + blob[8 + n:])
PY
}

"$tool" info "$data/gan-v1.safetensors" > "$tmp/out" || fail "info on the golden GAN"
grep -q "GAN checkpoint" "$tmp/out" && grep -q "^  loss  *ns$" "$tmp/out" || fail "golden GAN: $(cat "$tmp/out")"
"$tool" info "$data/vae-v1.safetensors" > "$tmp/out" || fail "info on the golden VAE"
grep -q "VAE checkpoint" "$tmp/out" && grep -q "^  likelihood  *bernoulli$" "$tmp/out" \
  && grep -q "^  enc_hidden  *5$" "$tmp/out" || fail "golden VAE: $(cat "$tmp/out")"

for edit in gan:loss:99 gan:loss:-1 gan:loss:2147483647 gan:gen_output:0 gan:activation:6 gan:n_gen_hidden:5 \
            gan:gen_optim.kind:2 vae:likelihood:99 vae:activation:-1 vae:optim.kind:7 vae:n_enc_hidden:5; do
  kind=${edit%%:*}
  rest=${edit#*:}
  key=${rest%%:*}
  value=${rest#*:}
  craft "$data/$kind-v1.safetensors" "$key" "$value" "$tmp/bad.safetensors"
  status=0
  "$tool" info "$tmp/bad.safetensors" > "$tmp/out" 2> "$tmp/err" || status=$?
  [ "$status" -eq 1 ] || fail "$edit: exit status $status, not 1: $(cat "$tmp/out" "$tmp/err")"
  [ ! -s "$tmp/out" ] || fail "$edit: printed $(cat "$tmp/out")"
  field=${key%%.*}
  grep -q "genmodel: .*bad.safetensors: gm_checkpoint_peek: .*$field" "$tmp/err" \
    || fail "$edit: the error should name $field: $(cat "$tmp/err")"
  echo "ok: $edit: $(cat "$tmp/err")"
done
