#!/usr/bin/python3
"""Super-resolution, ours against PyTorch's in one run (issue 17): the same
ESPCN (bench/sr_torch.py's recipe; the library's gm_sr defaults) on the
photographs bench/sr_data.py writes.

    sr_bench.py DATA speed [--steps 200]
        training patches per second (the training steps alone, patches
        prepared apart) and the median time to upscale the 512 x 512 test
        photograph (camera) x2, batch 1, on 1 and 2 threads, both sides
        back to back, as ratios (ours / PyTorch's speed)
    sr_bench.py DATA quality --minutes 10 --seeds 0,1,2
        ours trained for the minutes on 2 threads with each seed, then
        PyTorch's for the same number of steps with the same seed, both
        measured on DATA/test: PSNR and SSIM of the model and of bicubic
    sr_bench.py DATA quality --steps 8000 --seeds 0,1,2,3,4
        the same for a fixed number of steps on both sides

GENMODEL names the tool (default: build-bench/examples/genmodel).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.environ.get("GENMODEL", os.path.join(HERE, "..", "build-bench", "examples", "genmodel"))
TORCH = [sys.executable, os.path.join(HERE, "sr_torch.py")]


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out.stdout


def ours_train(data, out, steps, threads, seed, minutes=0.0, evaluate=True):
    cmd = [TOOL, "sr", "train", "--data", f"{data}/train", "--steps", str(steps), "--every", "50",
           "--threads", str(threads), "--seed", str(seed), "--out", out]
    if minutes:
        cmd += ["--minutes", str(minutes)]
    if evaluate:
        cmd += ["--eval", f"{data}/test"]
    text = run(cmd)
    lines = re.findall(r"^step +(\d+) .* (\d+) patches/s training", text, re.M)
    steps_done = int(lines[-1][0])
    # the steady rate: every line but the first (warm-up)
    rates = [int(r) for _, r in lines[1:]] or [int(lines[0][1])]
    q = re.search(r"PSNR ([\d.]+) dB \(bicubic ([\d.]+), ([+-][\d.]+)\)  SSIM ([\d.]+) \(bicubic ([\d.]+)", text)
    scores = None if not q else {"psnr": float(q[1]), "bicubic_psnr": float(q[2]), "gain_db": float(q[3]),
                                 "ssim": float(q[4]), "bicubic_ssim": float(q[5])}
    return steps_done, statistics.median(rates), scores


def ours_infer(model, image, threads, runs=7):
    with tempfile.TemporaryDirectory() as tmp:
        text = run([TOOL, "sr", "apply", model, image, f"{tmp}/out.png", "--threads", str(threads),
                    "--repeat", str(runs)])
    return float(re.search(r"\(([\d.]+) ms", text)[1])


def torch_run(data, steps, threads, seed, infer=False):
    with tempfile.TemporaryDirectory() as tmp:
        cmd = TORCH + [data, "--steps", str(steps), "--threads", str(threads), "--seed", str(seed),
                       "--json", f"{tmp}/r.json", "--log-every", "1e9"]
        if infer:
            cmd.append("--time-infer")
        run(cmd)
        with open(f"{tmp}/r.json") as f:
            return json.load(f)


def machine():
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return f"{model}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"


def speed(a):
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for threads in (1, 2):
            steps, ours, _ = ours_train(a.data, f"{tmp}/m", a.steps, threads, 0, evaluate=False)
            ms = ours_infer(f"{tmp}/m", f"{a.data}/test/camera.png", threads)
            t = torch_run(a.data, a.steps, threads, 0, infer=threads == 1)
            if threads == 1:
                t_infer = {k: v["median_ms"] for k, v in t["infer"]["by_threads"].items()}
            rows.append((threads, ours, t["patches_per_second"], ms, t_infer[str(threads)]))
    print(f"{'threads':>7s}  {'ours patches/s':>14s} {'torch':>8s} {'ratio':>6s}   "
          f"{'ours 512 x2 ms':>14s} {'torch':>8s} {'ratio':>6s}")
    for threads, ours, torch, ms, tms in rows:
        print(f"{threads:7d}  {ours:14.0f} {torch:8.0f} {ours / torch:6.2f}   {ms:14.1f} {tms:8.1f} {tms / ms:6.2f}")
    print(f"load after: {os.getloadavg()[0]:.2f}")


def quality(a):
    print(f"machine: {machine()}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in a.seeds:
            steps, rate, q = ours_train(a.data, f"{tmp}/m{seed}", a.steps if a.fixed else 0, 2, seed,
                                        minutes=0.0 if a.fixed else a.minutes)
            t = torch_run(a.data, steps, 2, seed)
            m = t["eval"]["mean"]
            results.append((seed, steps, rate, q, m))
            print(f"seed {seed}: {steps} steps ({rate:.0f} patches/s): ours {q['psnr']:.3f} dB ({q['gain_db']:+.3f}), "
                  f"SSIM {q['ssim']:.4f}; torch {m['model_psnr']:.3f} dB ({m['gain_db']:+.3f}), "
                  f"SSIM {m['model_ssim']:.4f}; bicubic {q['bicubic_psnr']:.3f} / {m['bicubic_psnr']:.3f}",
                  flush=True)
    gains = [q["gain_db"] for _, _, _, q, _ in results]
    tgains = [m["gain_db"] for _, _, _, _, m in results]
    diffs = [g - t for g, t in zip(gains, tgains)]
    print(f"ours minus torch: {statistics.mean(diffs):+.3f} dB mean, {min(diffs):+.3f} .. {max(diffs):+.3f}"
          + (f", sd {statistics.stdev(diffs):.3f}" if len(diffs) > 1 else ""))
    print(f"ours: gain {statistics.mean(gains):+.3f} dB mean, {min(gains):+.3f} .. {max(gains):+.3f}; "
          f"torch at the same steps: {statistics.mean(tgains):+.3f} dB mean, {min(tgains):+.3f} .. {max(tgains):+.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", help="the folder bench/sr_data.py wrote")
    ap.add_argument("what", choices=("speed", "quality"))
    ap.add_argument("--steps", type=int, default=None, help="speed: training steps a side (200); quality: "
                    "a fixed number of steps instead of --minutes")
    ap.add_argument("--minutes", type=float, default=10.0, help="quality: our training time")
    ap.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1, 2])
    a = ap.parse_args()
    a.fixed = a.steps is not None
    a.steps = 200 if a.steps is None else a.steps
    speed(a) if a.what == "speed" else quality(a)


if __name__ == "__main__":
    main()
