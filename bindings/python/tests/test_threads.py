"""Different handles train from different Python threads at once: ctypes
releases the GIL during each C call, and the results are those of the same
work done one after the other."""
import threading
import time

import numpy as np

import genmodel
from helpers import TINY_GAN, TINY_VAE, patterns


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
