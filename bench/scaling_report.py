#!/usr/bin/python3
"""Render the RESULT lines of bench/scaling.sh as the tables of docs/scaling.md.

    scaling_report.py RESULTS.txt      (or the lines on standard input)

Lines: "RESULT name=scaling model=M batch=B setting=S unit=samples/s
value=V" (S: 1x1, 1x2, 2x1, half), "RESULT name=hook model=M batch=B
rank=R floats=N unit=ms value=V" (ms per step in the tool's all-reduces,
each rank; the table takes the median over ranks and rounds) and "RESULT name=allreduce count=N ranks=2 unit=ms value=V"
(one all-reduce alone). Figures are medians over rounds; a ratio is the
median of each round's own ratio (its range over rounds in brackets).
"""
import fileinput
import os
import statistics
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (its reading of RESULT and INFO lines)


def rows(figures, name):
    """the lines of one name, each a dict of its fields, in the order read"""
    for (n, batch, _), fields in figures.items():
        if n == name:
            keys = list(fields)
            for values in zip(*(fields[k] for k in keys)):
                yield dict(zip(keys, values), batch=int(batch or 0))


def read(lines):
    figures, info, loads = report.read(lines)
    runs = defaultdict(list)      # (model, batch, setting) -> samples/s per round
    hooks = defaultdict(list)     # (model, batch) -> ms per step, per rank and round
    alone = defaultdict(list)     # count -> ms per call
    floats = {}                   # model -> the counts its all-reduces carry
    for f in rows(figures, "scaling"):
        runs[(f["model"], f["batch"], f["setting"])].append(f["value"])
    for f in rows(figures, "hook"):
        hooks[(f["model"], f["batch"])].append(f["value"])
        # a single count was read as a number, several as text
        floats[f["model"]] = f["floats"] if isinstance(f["floats"], str) else str(int(f["floats"]))
    for f in rows(figures, "allreduce"):
        alone[int(f["count"])].append(f["value"])
    return runs, hooks, alone, floats, info, loads


def ratio(a, b):
    r = [x / y for x, y in zip(a, b)]
    if not r:
        return "—"
    text = f"{statistics.median(r):.2f}×"
    return text + (f" ({min(r):.2f}–{max(r):.2f})" if len(r) > 1 else "")


def main():
    runs, hooks, alone, floats, info, loads = read(fileinput.input())
    rounds = max((len(v) for v in runs.values()), default=0)
    print("Machine and run:\n")
    for text in info:
        print(f"- {text}")
    if loads:
        print(f"- load average (1 min) before each measurement: {min(loads):.2f} to {max(loads):.2f}")
    print(f"- each figure: the median of {rounds} round{'s' * (rounds != 1)}\n")
    print("| model | global batch | 1×1 | 1×2 | 2×1 | 2×1 / 1×1 | 2×1 / 1×2 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    models = sorted({k[0] for k in runs}, key=lambda m: (m != "vae", m))
    batches = sorted({k[1] for k in runs})
    for m in models:
        for b in batches:
            s = {x: runs.get((m, b, x), []) for x in ("1x1", "1x2", "2x1")}
            med = {x: f"{statistics.median(v):,.0f}" if v else "—" for x, v in s.items()}
            print(f"| {m.upper()} | {b} | {med['1x1']} | {med['1x2']} | {med['2x1']} "
                  f"| {ratio(s['2x1'], s['1x1'])} | {ratio(s['2x1'], s['1x2'])} |")
    print("\nsamples/s (a GAN's: real samples); 1×1: one process on one thread, 1×2: one process on two "
          "threads, 2×1: two ranks of one thread each.\n")
    print("Where 2×1's step goes (ms per optimizer step, medians over rounds):\n")
    print("| model | global batch | 2×1 step | one rank's compute (1×1 at half the batch) | difference "
          "| in MPI_Allreduce, in the run | the all-reduce alone | floats reduced |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for m in models:
        counts = [int(c) for c in floats.get(m, "").split(",") if c]
        one = sum(statistics.median(alone[c]) for c in counts if c in alone) if counts else None
        for b in batches:
            step2 = [b / v for v in runs.get((m, b, "2x1"), [])]
            half = [b / 2 / v for v in runs.get((m, b, "half"), [])]
            diff = [x - y for x, y in zip(step2, half)]
            hook = hooks.get((m, b), [])

            def ms(v):
                return f"{1e3 * statistics.median(v):.2f}" if v else "—"

            print(f"| {m.upper()} | {b} | {ms(step2)} | {ms(half)} | {ms(diff)} "
                  f"| {f'{statistics.median(hook):.2f}' if hook else '—'} "
                  f"| {f'{one:.2f}' if one is not None else '—'} | {' + '.join(f'{c:,}' for c in counts)} |")
    print("\nin MPI_Allreduce, in the run: the time the tool's ranks spend in the gradient all-reduces per step "
          "(the median over both ranks and the rounds), waits for the other rank included; alone: the same all-reduces between "
          "ranks that do nothing else (bench/allreduce_bench.py). A GAN step reduces the discriminator's "
          "gradients, then the generator's.")


if __name__ == "__main__":
    main()
