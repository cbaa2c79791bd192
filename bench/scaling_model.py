#!/usr/bin/python3
"""Data-parallel step time on paper, from a run of bench/scaling.sh.

    scaling_model.py [RESULTS.txt]       (default build-scale/scaling-results.txt)

Takes the measured compute time per sample of one core (1x1 at global
batch 512: the median over rounds) and the floats each step's all-reduces
carry (the PMPI shim's counts), and models N workers, one core each,
joined by a ring all-reduce of 32-bit gradients:

    T_ar(N) = sum over the step's all-reduces of 2 (N-1)/N bytes/bandwidth + 2 (N-1) latency
    step(N, B) = (B / N) per_sample + T_ar(N)              (no overlap, as the tool runs now)

for 25 Gb/s Ethernet (latency LAT_ETH_US, default 20 µs a message:
TCP or RoCE through a switch) and 400 Gb/s InfiniBand (LAT_IB_US, default
2 µs). Prints the markdown tables of docs/scaling.md.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scaling_report  # noqa: E402  (its reading of the results)

NETWORKS = [("25 Gb/s Ethernet", 25e9, float(os.environ.get("LAT_ETH_US", "20")) * 1e-6),
            ("400 Gb/s InfiniBand", 400e9, float(os.environ.get("LAT_IB_US", "2")) * 1e-6)]
WORKERS = [8, 64, 512]
PER_WORKER = 64          # the step-time table: rows per worker (global batch 64 N)
BACKWARD_SHARE = 2 / 3   # of a step's compute, in the backward pass (two products per forward one)


def read(path):
    """the compute time per sample of each model, and the counts of its step's all-reduces"""
    runs, _, _, floats, _, _ = scaling_report.read(open(path))
    per_sample = {m: 1 / statistics.median(v) for (m, b, setting), v in runs.items() if (b, setting) == (512, "1x1")}
    return per_sample, {m: [int(c) for c in counts.split(",")] for m, counts in floats.items()}


def allreduce(counts, n, bandwidth, latency, bytes_per_float=4):
    """seconds of a step's ring all-reduces, one after the other"""
    return sum(2 * (n - 1) / n * c * bytes_per_float * 8 / bandwidth + 2 * (n - 1) * latency for c in counts)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "build-scale/scaling-results.txt"
    per_sample, floats = read(path)
    models = [m for m in ("vae", "gan") if m in per_sample and m in floats]
    print("Inputs:\n")
    for m in models:
        print(f"- {m.upper()}: {1e6 * per_sample[m]:.1f} µs of compute per sample on one core "
              f"({1 / per_sample[m]:,.0f} samples/s, 1×1 at batch 512); all-reduces per step: "
              f"{' + '.join(f'{c:,}' for c in floats[m])} floats = {4 * sum(floats[m]) / 1e6:.2f} MB")
    for name, bw, lat in NETWORKS:
        print(f"- {name}: {bw / 8e9:.3g} GB/s, {1e6 * lat:g} µs a message")
    print(f"\nStep time at {PER_WORKER} rows per worker (global batch {PER_WORKER} N), ms: compute + ring "
          "all-reduce (bandwidth term + latency term), and the share of the step spent computing:\n")
    print("| model | workers | global batch | compute | network | all-reduce | step | efficiency |")
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    for m in models:
        for n in WORKERS:
            compute = PER_WORKER * per_sample[m]
            for name, bw, lat in NETWORKS:
                ar = allreduce(floats[m], n, bw, lat)
                band = allreduce(floats[m], n, bw, 0)
                print(f"| {m.upper()} | {n} | {PER_WORKER * n:,} | {1e3 * compute:.2f} | {name} "
                      f"| {1e3 * ar:.2f} ({1e3 * band:.2f} + {1e3 * (ar - band):.2f}) "
                      f"| {1e3 * (compute + ar):.2f} | {compute / (compute + ar):.0%} |")
    print("\nThe global batch at which a step's compute equals its all-reduce, B = N T_ar / per_sample "
          "(rows per worker in brackets): with the all-reduce overlapped with the whole step, communication "
          "is hidden from there on; overlapped with the backward pass only (about 2/3 of the compute), from "
          "1.5 B; not overlapped (the tool now), B gives 50% efficiency and 9 B gives 90%. Then the same with "
          "16-bit gradients (half the bandwidth term):\n")
    print("| model | network | " + " | ".join(f"N = {n}" for n in WORKERS) + " | "
          + " | ".join(f"N = {n}, 16-bit" for n in WORKERS) + " |")
    print("|---|---|" + "---:|" * (2 * len(WORKERS)))
    for m in models:
        for name, bw, lat in NETWORKS:
            cells = []
            for bytes_per_float in (4, 2):
                for n in WORKERS:
                    rows = allreduce(floats[m], n, bw, lat, bytes_per_float) / per_sample[m]
                    cells.append(f"{n * rows:,.0f} ({rows:,.0f})")
            print(f"| {m.upper()} | {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
