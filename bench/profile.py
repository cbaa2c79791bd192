#!/usr/bin/python3
"""Render bench/profile.sh's measurements as markdown tables.

    profile.py DIR      (build-bench/profile)

DIR holds info.txt (genmodel-bench info), steps.txt (training steps on each
backend, genmodel-bench run with a backend= label), products.txt
(genmodel-bench run --products) and, where perf ran, one `perf report -t '|'`
per profile, named FIGURE-BACKEND-THREADS.txt. Samples in our code are
charged to the source file of lib/ that defines the function they fall in
(a function inlined into another counts as its caller), found by reading
lib/**/*.c; GCC's clone suffixes (.avx512f, .isra.0, ...) are dropped.
"""
import glob
import os
import re
import sys
from collections import defaultdict

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIGURES = [("vae_train", "128", "VAE training step, batch 128"), ("gan_train", "128", "GAN training step, batch 128")]
OPS = {"NT": "forward x·Wᵀ", "TN": "weight gradient dyᵀ·x", "NN": "input gradient dy·W", "v": "forward W·x (gemv)"}


def results(path):
    """the RESULT lines of a file as dicts"""
    out = []
    if os.path.exists(path):
        for line in open(path):
            words = line.split()
            if words[:1] == ["RESULT"]:
                out.append(dict(w.split("=", 1) for w in words[1:] if "=" in w))
    return out


def defining_files():
    """function name -> the file of lib/ (or bench/bench.c) that defines it"""
    where = {}
    definition = re.compile(r"^(?![#/ }\t])[^;=]*?\b([A-Za-z_]\w*)\s*\(")
    for path in sorted(glob.glob(os.path.join(ROOT, "lib", "**", "*.c"), recursive=True)) + \
            [os.path.join(ROOT, "bench", "bench.c")]:
        rel = os.path.relpath(path, ROOT)
        for line in open(path, errors="replace"):
            m = definition.match(line)
            if m and not line.rstrip().endswith(";") and m.group(1) not in ("if", "for", "while", "switch"):
                where.setdefault(m.group(1), rel)
    return where


# where a sample falls outside our code, by the start of its object's name
# (oneDNN's JIT kernels are "[JIT] tid N")
OBJECTS = [("[JIT]", "products: oneDNN"), ("libdnnl", "products: oneDNN"), ("libopenblas", "products: OpenBLAS"),
           ("libgomp", "OpenMP runtime"), ("[kernel.kallsyms]", "kernel"), ("libc.", "libc"),
           ("libm.", "libm (exp, log)")]


def group(dso, sym, where):
    dso = dso.strip()
    if dso == "genmodel-bench":
        name = sym.split("] ", 1)[-1].strip().split(".")[0]
        return where.get(name, "genmodel-bench, not found in lib/")
    return next((g for prefix, g in OBJECTS if dso.startswith(prefix)), dso)


def perf_profile(path, where):
    """(share of samples per group, the hottest symbols as (share, symbol));
    oneDNN's kernels of one name, one per shape, count as one symbol"""
    groups, symbols = defaultdict(float), defaultdict(float)
    for line in open(path):
        if line.startswith("#") or "|" not in line:
            continue
        share, dso, sym = (f.strip() for f in line.split("|", 2))
        share = float(share.rstrip("%"))
        groups[group(dso, sym, where)] += share
        symbols[sym.split("] ", 1)[-1]] += share
    return groups, sorted(((share, sym) for sym, share in symbols.items()), reverse=True)


def steps_table(steps, products):
    print("**The products against the rest** (1 thread; the step's time from its samples/s, the products' "
          "as the sum of each timed alone by the replay):\n")
    print("| step | backend | step | its products | products' share | the rest |")
    print("|---|---|---:|---:|---:|---:|")
    for name, batch, label in FIGURES:
        for s in steps:
            if (s.get("name"), s.get("batch")) != (name, batch):
                continue
            step_us = 1e6 * int(batch) / float(s["ours"])
            p = next((float(r["time"]) for r in products if r.get("name") == "products"
                      and (r["figure"], r["batch"], r["backend"]) == (name, batch, s["backend"])), None)
            share = f"{p / step_us:.0%}" if p else "—"
            prod = f"{p:,.0f} µs" if p else "—"
            rest = f"{step_us - p:,.0f} µs" if p else "—"
            print(f"| {label} | {s['backend']} | {step_us:,.0f} µs | {prod} | {share} | {rest} |")


def products_table(products, name, batch, label):
    per = defaultdict(dict)
    backends = []
    for r in products:
        if r.get("name") == "product" and (r["figure"], r["batch"]) == (name, batch):
            per[int(r["index"])][r["backend"]] = r
            if r["backend"] not in backends:
                backends.append(r["backend"])
    if not per:
        return
    total = {b: sum(float(p[b]["time"]) for p in per.values() if b in p) for b in backends}
    print(f"\n**Each product of the {label}**, timed alone (1 thread; µs per call, GFLOP/s, and its share of "
          "the products' time on that backend):\n")
    print("| # | product | M×N×K | " + " | ".join(f"{b} µs | {b} GFLOP/s | {b} share" for b in backends)
          + (" | onednn vs openblas |" if set(backends) >= {"onednn", "openblas"} else " |"))
    print("|---:|---|---:|" + "---:|---:|---:|" * len(backends)
          + ("---:|" if set(backends) >= {"onednn", "openblas"} else ""))
    for i in sorted(per):
        first = next(iter(per[i].values()))
        cells = []
        for b in backends:
            r = per[i].get(b)
            cells += [f"{float(r['time']):,.1f}", f"{float(r['gflops']):.0f}",
                      f"{float(r['time']) / total[b]:.0%}"] if r else ["—"] * 3
        line = f"| {i} | {OPS.get(first['op'], first['op'])} | {first['M']}×{first['N']}×{first['K']} | " \
               + " | ".join(cells) + " |"
        if {"onednn", "openblas"} <= per[i].keys():
            line += f" {float(per[i]['openblas']['time']) / float(per[i]['onednn']['time']):.2f}× |"
        print(line)


def perf_tables(directory, where):
    runs = []
    for name, batch, label in FIGURES:
        for path in sorted(glob.glob(os.path.join(directory, f"{name}-*.txt"))):
            backend, threads = os.path.basename(path)[:-4].split("-")[1:]
            runs.append((f"{label.split(',')[0].replace(' training step', '')}, {backend}, {threads}T",
                         perf_profile(path, where)))
    if not runs:
        print("\nNo perf profile (perf missing or not allowed to sample).")
        return
    order = sorted({g for _, (groups, _) in runs for g in groups}, key=lambda g: -max(
        groups.get(g, 0.0) for _, (groups, _) in runs))
    print("\n**Where the samples fall** (perf record -e cpu-clock while the harness times; % of each "
          "profile's samples, every thread of the process):\n")
    print("| where | " + " | ".join(label for label, _ in runs) + " |")
    print("|---|" + "---:|" * len(runs))
    for g in order:
        shares = [groups.get(g, 0.0) for _, (groups, _) in runs]
        if max(shares) >= 0.1:
            print(f"| {g} | " + " | ".join(f"{s:.1f}%" if s else "—" for s in shares) + " |")
    for label, (_, symbols) in runs:
        if label.endswith("1T"):
            hottest = "; ".join(f"{sym} {share:.1f}%" for share, sym in symbols[:8])
            print(f"\nHottest symbols, {label}: {hottest}.")


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "build-bench/profile"
    info = [line[5:].strip() for line in open(os.path.join(directory, "info.txt")) if line.startswith("INFO ")]
    print("Machine and versions:\n")
    for text in info:
        print(f"- {text}")
    print()
    products = results(os.path.join(directory, "products.txt"))
    steps_table(results(os.path.join(directory, "steps.txt")), products)
    for name, batch, label in FIGURES:
        products_table(products, name, batch, label)
    perf_tables(directory, defining_files())


if __name__ == "__main__":
    main()
