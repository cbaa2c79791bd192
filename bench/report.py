#!/usr/bin/python3
"""Render the RESULT lines of a benchmark run (bench/run.sh) as a markdown table.

    report.py RESULTS.txt [...]      (or the lines on standard input)

A RESULT line is "RESULT name=N batch=B threads=T unit=U field=value ...";
lines with the same name, batch and threads are one figure, and each of its
numeric fields is the median over the lines (the rounds) that have it. The
ratios are medians of each round's own ratio, whose range follows in
brackets: a round times both sides within seconds of each other, so its
ratio is steadier than the figures of a drifting machine.
INFO lines describe the machine; the distinct ones are listed above the table.
"""
import fileinput
import statistics
from collections import defaultdict

# label, name, batch, the field holding PyTorch's figure
ROWS = [
    ("VAE training", "vae_train", "128", "torch"),
    ("VAE training", "vae_train", "512", "torch"),
    ("GAN training (real samples)", "gan_train", "128", "torch"),
    ("GAN training (real samples)", "gan_train", "512", "torch"),
    ("VAE inference, encode→decode", "vae_infer", "1000", "torch"),
    ("VAE encode→decode latency, vs torch nn.Linear", "vae_latency", "1", "torch"),
    ("VAE encode→decode latency, vs torch hand addmv", "vae_latency", "1", "torch_addmv"),
    ("Peak RSS, one training epoch + test -ELBO", "vae_train_rss", "128", "torch"),
]
# units in which a smaller figure is the better one
SMALLER_IS_BETTER = {"us", "MiB"}


def read(lines):
    figures = defaultdict(lambda: defaultdict(list))
    info, loads = [], []
    for line in lines:
        words = line.split()
        if words[:1] == ["INFO"]:
            text = line[len("INFO "):].strip()
            if text.startswith("load:"):
                loads.append(float(text.split()[1]))
            elif text not in info:
                info.append(text)
        elif words[:1] == ["RESULT"]:
            fields = dict(w.split("=", 1) for w in words[1:] if "=" in w)
            key = (fields.pop("name"), fields.pop("batch", ""), fields.pop("threads", ""))
            for k, v in fields.items():
                try:
                    figures[key][k].append(float(v))
                except ValueError:
                    figures[key][k] = [v]
    return figures, info, loads


def median(fig, field):
    values = fig.get(field)
    return statistics.median(values) if values and not isinstance(values[0], str) else None


def show(value, unit, p90=None):
    if value is None:
        return "—"
    if unit == "us":
        return f"{value:.1f} µs" + (f" (p90 {p90:.1f})" if p90 is not None else "")
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:,.0f}/s"


def better(ours, theirs, unit):
    """how many times better ours is than theirs: faster, or smaller"""
    return theirs / ours if unit in SMALLER_IS_BETTER else ours / theirs


def ratio(fig, field, unit, fmt):
    """the median and range over rounds of ours against field, the k-th
    value of each coming from round k"""
    ours, theirs = fig.get("ours"), fig.get(field)
    if not ours or not theirs or isinstance(theirs[0], str):
        return "—"
    r = [better(o, t, unit) for o, t in zip(ours, theirs)]
    text = fmt.format(statistics.median(r))
    return text + (f" ({fmt.format(min(r))}–{fmt.format(max(r))})" if len(r) > 1 else "")


def main():
    figures, info, loads = read(fileinput.input())
    rounds = max((len(f.get("ours", [])) for k, f in figures.items() if k[0] == "vae_train"), default=0)
    print("Machine and versions:\n")
    for text in info:
        print(f"- {text}")
    if loads:
        print(f"- load average (1 min) during the run: {min(loads):.1f} to {max(loads):.1f}")
    has_torch = any("torch" in f for f in figures.values())
    print(f"- each figure: the median of {rounds} round{'s' * (rounds != 1)}; "
          + ("a round times ours, its limit and PyTorch's back to back\n" if has_torch
             else "PyTorch was not measured\n"))
    print("| figure | batch | threads | ours | PyTorch | sgemm-only limit | ours vs PyTorch | ours / limit |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, name, batch, torch_field in ROWS:
        for (n, b, threads), fig in sorted(figures.items()):
            if (n, b) != (name, batch):
                continue
            unit = fig["unit"][0]
            ours, limit, torch = (median(fig, f) for f in ("ours", "limit", torch_field))
            if ours is None and torch is None:
                continue
            print(f"| {label} | {batch} | {threads} | {show(ours, unit, median(fig, 'ours_p90'))} "
                  f"| {show(torch, unit, median(fig, torch_field + '_p90'))} "
                  f"| {show(limit, unit, median(fig, 'limit_p90'))} | {ratio(fig, torch_field, unit, '{:.2f}×')} "
                  f"| {ratio(fig, 'limit', unit, '{:.0%}')} |")
    print("\nours vs PyTorch: how many times faster (or smaller) ours is. ours / limit: the share of "
          "the sgemm-only limit's speed that ours reaches. Both are medians of each round's own ratio, "
          "so they need not equal the ratio of the columns' medians; in brackets, their range over rounds.")
    settings = sorted({s for f in figures.values() for s in f.get("torch_setting", [])})
    if settings:
        print(f"PyTorch's thread settings (torch intra-op / OpenBLAS): {', '.join(settings)}.")


if __name__ == "__main__":
    main()
