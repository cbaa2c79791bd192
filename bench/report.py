#!/usr/bin/python3
"""Render the RESULT lines of a benchmark run (bench/run.sh) as markdown tables.

    report.py RESULTS.txt [...]      (or the lines on standard input)

A RESULT line is "RESULT name=N batch=B threads=T unit=U field=value ...";
lines with the same name, batch and threads are one figure, and each of its
numeric fields is the median over the lines (the rounds) that have it. The
ratios are medians of each round's own ratio, whose range follows in
brackets: a round times both sides within seconds of each other, so its
ratio is steadier than the figures of a drifting machine.
INFO lines describe the machine; the distinct ones are listed above the tables.

The first table sets ours (the default backend) against the limit (the
faster replay of the products) and PyTorch; the second sets the backends
against each other: each one's replay, and our step on each.
"""
import fileinput
import statistics
from collections import Counter, defaultdict

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
    ("DCGAN training (real samples)", "dcgan_train", "64", "torch"),
    ("Conv VAE training", "cvae_train", "128", "torch"),
    ("Conv VAE encode→decode latency, vs torch modules", "cvae_latency", "1", "torch"),
    ("Conv VAE latent anomaly score", "cvae_score", "1000", "torch"),
]
# the backends' table: one row per figure
BACKEND_ROWS = [
    ("VAE training", "vae_train", "128"),
    ("VAE training", "vae_train", "512"),
    ("GAN training", "gan_train", "128"),
    ("GAN training", "gan_train", "512"),
    ("VAE inference", "vae_infer", "1000"),
    ("VAE encode→decode latency", "vae_latency", "1"),
]
# units in which a smaller figure is the better one
SMALLER_IS_BETTER = {"us", "MiB"}


def read(lines):
    """figures[(name, batch, threads)][field]: the values of the rounds in
    order (text for fields such as limit_backend); the INFO lines; the loads"""
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
                    figures[key][k].append(v)
    return figures, info, loads


def numbers(fig, field):
    values = fig.get(field)
    return values if values and not isinstance(values[0], str) else None


def median(fig, field):
    values = numbers(fig, field)
    return statistics.median(values) if values else None


def show(value, unit, p90=None):
    if value is None:
        return "—"
    if unit == "us":
        return f"{value:.1f} µs" + (f" (p90 {p90:.1f})" if p90 is not None else "")
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:,.0f}/s"


def show_field(fig, field, unit):
    return show(median(fig, field), unit, median(fig, field + "_p90"))


def better(ours, theirs, unit):
    """how many times better ours is than theirs: faster, or smaller"""
    return theirs / ours if unit in SMALLER_IS_BETTER else ours / theirs


def round_ratios(fig, field, against, unit):
    """each round's ratio of field against another, the k-th value of each
    coming from round k"""
    ours, theirs = numbers(fig, field), numbers(fig, against)
    if not ours or not theirs:
        return []
    return [better(o, t, unit) for o, t in zip(ours, theirs)]


def ratio(fig, field, against, unit, fmt):
    """the median and range over rounds of field against another"""
    r = round_ratios(fig, field, against, unit)
    if not r:
        return "—"
    text = fmt.format(statistics.median(r))
    return text + (f" ({fmt.format(min(r))}–{fmt.format(max(r))})" if len(r) > 1 else "")


def limit_backends(fig):
    """the backend whose replay was the limit, the most frequent first"""
    names = Counter(fig.get("limit_backend", []))
    return ", ".join(n for n, _ in names.most_common())


def figures_of(figures, name, batch):
    for (n, b, threads), fig in sorted(figures.items()):
        if (n, b) == (name, batch):
            yield threads, fig


def main_table(figures):
    print("| figure | batch | threads | ours | ours on OpenBLAS | PyTorch | limit (backend) | ours / limit "
          "| ours vs PyTorch |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, name, batch, torch_field in ROWS:
        for threads, fig in figures_of(figures, name, batch):
            unit = fig["unit"][0]
            if median(fig, "ours") is None and median(fig, torch_field) is None:
                continue
            limit = show_field(fig, "limit", unit)
            if limit_backends(fig):
                limit += f" ({limit_backends(fig)})"
            print(f"| {label} | {batch} | {threads} | {show_field(fig, 'ours', unit)} "
                  f"| {show_field(fig, 'ours_openblas', unit)} | {show_field(fig, torch_field, unit)} "
                  f"| {limit} | {ratio(fig, 'ours', 'limit', unit, '{:.0%}')} "
                  f"| {ratio(fig, 'ours', torch_field, unit, '{:.2f}×')} |")


def backends_table(figures, default):
    """each backend's replay and our step on each; returns the rows whose
    default backend is slower than OpenBLAS (a median ratio below 1)"""
    print(f"| figure | batch | threads | replay on OpenBLAS | replay on oneDNN | oneDNN vs OpenBLAS, replay "
          f"| ours on {default} (default) | ours on OpenBLAS | default vs OpenBLAS, ours |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    slower = []
    for label, name, batch in BACKEND_ROWS:
        for threads, fig in figures_of(figures, name, batch):
            unit = fig["unit"][0]
            if median(fig, "limit_openblas") is None:
                continue
            r = round_ratios(fig, "ours", "ours_openblas", unit)
            if r and statistics.median(r) < 1.0:
                slower.append(f"{label} b{batch} on {threads} thread{'s' * (threads != '1')} "
                              f"({ratio(fig, 'ours', 'ours_openblas', unit, '{:.3f}×')})")
            print(f"| {label} | {batch} | {threads} | {show_field(fig, 'limit_openblas', unit)} "
                  f"| {show_field(fig, 'limit_onednn', unit)} "
                  f"| {ratio(fig, 'limit_onednn', 'limit_openblas', unit, '{:.2f}×')} "
                  f"| {show_field(fig, 'ours', unit)} | {show_field(fig, 'ours_openblas', unit)} "
                  f"| {ratio(fig, 'ours', 'ours_openblas', unit, '{:.2f}×')} |")
    return slower


def main():
    figures, info, loads = read(fileinput.input())
    rounds = max((len(f.get("ours", [])) for k, f in figures.items() if k[0] == "vae_train"), default=0)
    default = next((t.split("default backend ")[1] for t in info if "default backend " in t), "?")
    print("Machine and versions:\n")
    for text in info:
        print(f"- {text}")
    if loads:
        print(f"- load average (1 min) during the run: {min(loads):.1f} to {max(loads):.1f}")
    has_torch = any("torch" in f for f in figures.values())
    print(f"- each figure: the median of {rounds} round{'s' * (rounds != 1)}; a round times ours on each "
          "backend, the replay on each backend"
          + (" and PyTorch's back to back\n" if has_torch else "; PyTorch was not measured\n"))
    main_table(figures)
    print(f"\nours: the library on its default backend ({default}); ours on OpenBLAS: the same with "
          "gm_set_backend(\"openblas\"). limit: the faster replay of the step's products, on the backend "
          "named (the next table has both). ours / limit: the share of the limit's speed that ours reaches. "
          "ours vs PyTorch: how many times faster (or smaller) ours is. Ratios are medians of each round's "
          "own ratio, so they need not equal the ratio of the columns' medians; in brackets, their range "
          "over rounds.")
    settings = sorted({s for f in figures.values() for s in f.get("torch_setting", [])})
    if settings:
        print(f"PyTorch's thread settings (torch intra-op / OpenBLAS): {', '.join(settings)}.")
    print("\nThe backends:\n")
    slower = backends_table(figures, default)
    print(f"\nvs: how many times faster the first is, per round (median, range). Our step on the default "
          f"backend ({default}) is slower than on OpenBLAS (a median below 1.00×) in: "
          f"{'; '.join(slower) if slower else 'no figure'}.")


if __name__ == "__main__":
    main()
