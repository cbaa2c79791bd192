#!/bin/sh
# genmodel sr and examples/upscale.c end to end, on made-up photographs
# (grey, RGB and 16-bit PNGs of different sizes, written here with zlib):
# train with an evaluation, resume, apply (its output twice the size), eval,
# info; and the errors: a scale the model was not trained for, a corrupt
# PNG, an image too small for a training crop.
# Usage: test_sr.sh GENMODEL UPSCALE_EXAMPLE
set -eu
tool=$1
example=$2
py=$(command -v /usr/bin/python3 || command -v python3) || { echo "SKIP: no python3"; exit 77; }
"$tool" --help > /dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" - "$tmp" << 'PY'
import math, os, struct, sys, zlib
d = sys.argv[1]
def png(path, w, h, channels, depth, value):
    colour = {1: 0, 3: 2}[channels]
    rows = b""
    for y in range(h):
        row = b"\0"
        for x in range(w):
            for c in range(channels):
                v = value(x, y, c)
                row += struct.pack(">H", int(v * 65535)) if depth == 16 else bytes([int(v * 255)])
        rows += row
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
wave = lambda x, y, c: 0.5 + 0.25 * math.sin(0.9 * x + c) * math.cos(0.7 * y)
for sub in ("train", "test", "small"):
    os.makedirs(f"{d}/{sub}")
png(f"{d}/train/a.png", 61, 47, 3, 8, wave)
png(f"{d}/train/b.png", 40, 52, 1, 16, wave)
png(f"{d}/test/c.png", 50, 38, 3, 8, wave)
png(f"{d}/small/tiny.png", 20, 20, 1, 8, wave)
png(f"{d}/in.png", 23, 17, 3, 8, wave)
open(f"{d}/corrupt.png", "wb").write(open(f"{d}/in.png", "rb").read()[:60])
PY
fail() { echo "FAIL: $*"; exit 1; }
size() { "$py" -c 'import struct,sys; b=open(sys.argv[1],"rb").read(24); print(*struct.unpack(">II", b[16:24]))' "$1"; }

"$tool" sr train --data "$tmp/train" --eval "$tmp/test" --steps 20 --every 10 --batch 8 --patch 9 \
    --body-channels 8,4 --out "$tmp/m" > "$tmp/out"
grep -q "^step     20  pixel loss" "$tmp/out" || fail "no progress line: $(cat "$tmp/out")"
grep -q "test: 1 images  PSNR .* dB (bicubic " "$tmp/out" || fail "no evaluation: $(cat "$tmp/out")"
"$tool" sr train --data "$tmp/train" --resume "$tmp/m" --steps 30 --every 5 --batch 8 --out "$tmp/m2" > "$tmp/out"
grep -q "^step     25 " "$tmp/out" && grep -q "^step     30 " "$tmp/out" || fail "resume: $(cat "$tmp/out")"
"$tool" info "$tmp/m2" | grep -q "upscaler checkpoint, format version 1, 30 steps" || fail "info"

"$tool" sr apply "$tmp/m2" "$tmp/in.png" "$tmp/out.png" --scale 2 > /dev/null
[ "$(size "$tmp/out.png")" = "46 34" ] || fail "apply wrote $(size "$tmp/out.png")"
"$example" "$tmp/m2" "$tmp/in.png" "$tmp/ex.png" > /dev/null
cmp -s "$tmp/out.png" "$tmp/ex.png" || fail "the example's image differs from the tool's"
"$tool" sr eval "$tmp/m2" --data "$tmp/test" | grep -q "PSNR" || fail "eval"

if "$tool" sr apply "$tmp/m2" "$tmp/in.png" "$tmp/x.png" --scale 3 2> "$tmp/err"; then fail "scale 3 accepted"; fi
grep -q "upscales by 2, not 3" "$tmp/err" || fail "scale: $(cat "$tmp/err")"
if "$tool" sr apply "$tmp/m2" "$tmp/corrupt.png" "$tmp/x.png" 2> "$tmp/err"; then fail "a corrupt PNG accepted"; fi
grep -q "corrupt.png" "$tmp/err" || fail "corrupt: $(cat "$tmp/err")"
if "$tool" sr train --data "$tmp/small" --steps 1 --out "$tmp/s" 2> "$tmp/err"; then fail "a small image accepted"; fi
grep -q "image 0 is 20 x 20, smaller than the 34 x 34 crop" "$tmp/err" || fail "small: $(cat "$tmp/err")"
echo "ok"
