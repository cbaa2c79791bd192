"""Different handles train from different Python threads at once: ctypes
releases the GIL during each C call, and the results are those of the same
work done one after the other. Threads sharing one handle take turns."""
import os
import subprocess
import sys
import threading
import time

import numpy as np

import genmodel
from helpers import TINY_GAN, TINY_VAE, patterns, python_env


def work(model, x):
    """Train and sample; returns the final checkpoint and the samples."""
    model.fit(x, 20, batch_size=16)
    return model.to_bytes(), model.sample(8)


def run_in_threads(jobs):
    results = [None] * len(jobs)

    def run(i, job):
        results[i] = job()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_training_matches_sequential(one_thread):
    x1, x2 = patterns(128, seed=1)[0], patterns(128, seed=2)[0]
    configs = [(genmodel.VAE, dict(TINY_VAE, seed=1), x1), (genmodel.GAN, dict(TINY_GAN, seed=2), x2),
               (genmodel.VAE, dict(TINY_VAE, seed=3), x2)]
    sequential = []
    for cls, config, x in configs:
        with cls(**config) as model:
            sequential.append(work(model, x))
    models = [cls(**config) for cls, config, _ in configs]
    try:
        concurrent = run_in_threads([lambda m=m, x=x: work(m, x) for m, (_, _, x) in zip(models, configs)])
    finally:
        for m in models:
            m.close()
    for (blob_a, samples_a), (blob_b, samples_b) in zip(sequential, concurrent):
        assert blob_a == blob_b and np.array_equal(samples_a, samples_b)


def test_the_gil_is_released_during_a_call(one_thread):
    # One long C call on a worker thread; the main thread keeps running
    # Python meanwhile, which it could not if the call held the GIL.
    x = np.random.default_rng(0).random((2048, 784), dtype=np.float32)
    with genmodel.VAE(seed=1) as vae:
        vae.train_step(x[:8])
        started = time.perf_counter()
        vae.train_step(x)
        duration = time.perf_counter() - started
        ticks, worker = [], threading.Thread(target=vae.train_step, args=(x,))
        worker.start()
        while worker.is_alive():
            ticks.append(time.perf_counter())
        worker.join()
    gaps = np.diff(ticks)
    assert len(ticks) > 100 and gaps.max() < duration / 2, (duration, gaps.max())


# Threads sharing one object. Run in a child interpreter: a race in the C
# handle is a segfault, which must fail the test, not end the test run.
SHARED_MODELS = r"""
import os, sys, tempfile, threading
import numpy as np
import genmodel
from helpers import TINY_GAN, TINY_VAE, patterns, python_env

x, labels = patterns(64)
tmp = tempfile.mkdtemp()
models = [genmodel.VAE(**TINY_VAE), genmodel.GAN(**TINY_GAN)]
steps = [0, 0]
count = threading.Lock()

def hammer(i):
    for j in range(60):
        for m, model in enumerate(models):
            verb = (i + j) % 6
            if verb == 0:
                model.train_step(x[:16])
                with count:
                    steps[m] += 1
            elif verb == 1:
                assert model.sample(4).shape == (4, 16)
            elif verb == 2:
                if m == 0:
                    assert model.encode(x)[0].shape == (64, 2)
                else:
                    assert model.discriminate(x).shape == (64,)
            elif verb == 3:
                model.save(os.path.join(tmp, f"{i}.safetensors")) if j % 20 == 3 else model.to_bytes()
            elif verb == 4:
                model.set_lr(*[1e-3] * (1 + m))
                repr(model), model.config, model.step
            else:
                model.fit(x[:32], 1, batch_size=16)
                with count:
                    steps[m] += 2

threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
# the calls took turns: every step counted, each seen once
assert [m.step for m in models] == steps, ([m.step for m in models], steps)
print("ok")
"""

CLOSE_WHILE_IN_USE = r"""
import threading
import numpy as np
import genmodel
from helpers import TINY_VAE, patterns

x = patterns(64)[0]
genmodel.write_idx(sys.argv[1], x, 4, 4)
for round in range(20):
    vae, ds = genmodel.VAE(**TINY_VAE), genmodel.Dataset(sys.argv[1])
    outcomes = []

    def use(obj, call):
        try:
            for _ in range(200):
                call(obj)
            outcomes.append("done")
        except ValueError as e:  # only ever: the object was closed
            assert "is closed" in str(e), e
            outcomes.append("closed")

    threads = [threading.Thread(target=use, args=(vae, lambda m: m.train_step(x))) for _ in range(2)]
    threads += [threading.Thread(target=use, args=(ds, lambda d: d.gather([1, 2, 3]))) for _ in range(2)]
    for t in threads:
        t.start()
    vae.close()
    ds.close()
    for t in threads:
        t.join()
    assert len(outcomes) == 4 and vae.closed and ds.closed
print("ok")
"""


def run_child(code, *args):
    """Run code in a child python3 that imports genmodel and helpers; it
    must exit with status 0 and print "ok" (a segfault is status -11)."""
    env = python_env()
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.abspath(__file__)), env["PYTHONPATH"]])
    result = subprocess.run([sys.executable, "-c", "import sys\n" + code, *args], capture_output=True, text=True,
                            env=env, timeout=240)
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr[-3000:]


def test_threads_sharing_a_model_take_turns():
    # several threads train, sample, encode, save and read one VAE and one
    # GAN at once: slower than one thread each, but no crash and no lost step
    run_child(SHARED_MODELS)


def test_close_while_other_threads_use_the_object(tmp_path):
    # close() waits for the call in flight; later calls raise ValueError
    run_child(CLOSE_WHILE_IN_USE, str(tmp_path / "x.idx"))
