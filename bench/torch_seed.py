#!/usr/bin/python3
"""Run a PyTorch reference script with every seed it sets moved by SEED:
the reference scripts fix their seeds, and a quality claim needs several.

    REF_OUT=DIR bench/torch_seed.py SEED ../shared/reference/conv_bench.py --model dcgan --epochs 10 --save

SEED 0 runs the script as it is; SEED s adds s to each torch.manual_seed
and torch.Generator().manual_seed it calls. The script's common.py must
be beside it (as in ../shared/reference)."""
import os, runpy, sys
off = int(sys.argv[1])
script = os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.dirname(script))
import common
_setup = common.setup_threads
def setup(*a, **k):
    torch = _setup(*a, **k)
    ms = torch.manual_seed
    torch.manual_seed = lambda s: ms(s + off)
    class Gen(torch.Generator):
        def manual_seed(self, s):
            return super().manual_seed(s + off)
    torch.Generator = Gen
    return torch
common.setup_threads = setup
sys.argv = [script] + sys.argv[3:]
runpy.run_path(script, run_name="__main__")
