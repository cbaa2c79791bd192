#!/bin/sh
# examples/anomaly.c trains a one-class VAE on a CSV table, calibrates a
# threshold at 5% false positives on held-out normal rows and flags new
# rows: normal rows lie near a curve in 8-D, anomalies off it, each column
# on a scale of its own (the model standardizes them). Most anomalies must
# be flagged and few normal rows.
# Usage: test_anomaly_example.sh ANOMALY_EXAMPLE
set -eu
example=$1
py=$(command -v /usr/bin/python3 || command -v python3) || { echo "SKIP: no python3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" - "$tmp" << 'PY'
import math, random, sys
random.seed(1)
SCALE = [10.0 ** (k - 3) for k in range(8)]  # 0.001 to 10000
def normal():
    t = random.uniform(0, 1)
    return [s * (k + 0.4 * math.sin(2 * math.pi * t + k) + random.gauss(0, 0.01)) for k, s in enumerate(SCALE)]
def anomaly():
    return [s * (k + random.uniform(-0.4, 0.4)) for k, s in enumerate(SCALE)]
def write(name, rows):
    with open(f"{sys.argv[1]}/{name}", "w") as f:
        f.write(",".join(f"x{k}" for k in range(8)) + "\n")
        for r in rows:
            f.write(",".join(f"{v:.6g}" for v in r) + "\n")
write("train.csv", [normal() for _ in range(2000)])
write("held.csv", [normal() for _ in range(500)])
write("new.csv", [normal() for _ in range(200)] + [anomaly() for _ in range(200)])
PY
"$example" "$tmp/train.csv" "$tmp/held.csv" "$tmp/new.csv" 0.05 100 > "$tmp/out"
awk '$1 < 200 { fp += $4 } $1 >= 200 { tp += $4 }
     END { printf "false positives %d/200, anomalies flagged %d/200\n", fp, tp;
           exit !(fp <= 30 && tp >= 160) }' "$tmp/out"
