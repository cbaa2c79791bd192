"""Data-parallel training through set_allreduce, with an in-process
communicator: two models on two Python threads average their buffers
through a barrier, as two MPI ranks would. They end with the same weights
as each other, bit for bit, and as one model trained at the global batch,
to float rounding. A hook that raises fails the step with the exception as
its cause and changes nothing. The mpi4py example runs in the mpi suite
(tests/cli/test_mpi.sh)."""
import threading

import numpy as np
import pytest

import genmodel
from helpers import TINY_GAN, TINY_VAE, patterns


class Threads:
    """size workers' hooks meeting at a barrier: each publishes its buffer,
    one sums them in rank order, all copy the same mean back."""

    def __init__(self, size):
        self.size, self.barrier, self.bufs = size, threading.Barrier(size), [None] * size

    def hook(self, rank):
        def allreduce(buf):
            self.bufs[rank] = buf
            self.barrier.wait()
            if rank == 0:
                self.mean = np.sum(np.stack(self.bufs), axis=0, dtype=np.float32) * np.float32(1 / self.size)
            self.barrier.wait()
            buf[:] = self.mean
            self.barrier.wait()
        return allreduce


def train(model, x, batch, rank=0, size=1, epochs=2):
    n = batch // size
    losses = []
    for _ in range(epochs):
        order = model.shuffle(len(x))
        for at in range(0, len(x) - batch + 1, batch):
            losses.append(model.train_step(x[order[at + rank * n:at + (rank + 1) * n]]))
    return losses


@pytest.mark.parametrize("cls, cfg", [(genmodel.VAE, TINY_VAE), (genmodel.GAN, dict(TINY_GAN, n_critic=2))])
def test_two_workers_reproduce_one_process(cls, cfg):
    x = patterns(32)[0]
    one = cls(**cfg)
    want = train(one, x, 16)
    comm, workers, got = Threads(2), [cls(**cfg) for _ in range(2)], [None, None]

    def run(rank):
        workers[rank].set_allreduce(comm.hook(rank), rank, 2)
        got[rank] = train(workers[rank], x, 16, rank, 2)

    threads = [threading.Thread(target=run, args=(r,)) for r in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # the gradients' row sums are added in another order: float rounding
    for rank in range(2):
        np.testing.assert_allclose(np.array(got[rank]), np.array(want), rtol=1e-4, atol=1e-5)
    assert workers[0].to_bytes() == workers[1].to_bytes()
    for w in workers:
        w.close()
    one.close()


def test_a_hook_that_raises_fails_the_step_and_changes_nothing():
    x = patterns(8)[0]
    vae = genmodel.VAE(**TINY_VAE)
    vae.train_step(x)
    before = vae.to_bytes()

    def broken(buf):
        raise RuntimeError("the network is down")

    vae.set_allreduce(broken)
    with pytest.raises(genmodel.FileError, match="reduction hook failed") as info:
        vae.train_step(x)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert vae.to_bytes() == before
    vae.set_allreduce(None)
    vae.train_step(x)
    assert vae.step == 2
    vae.close()


def test_set_allreduce_refuses_a_rank_outside_the_run():
    vae = genmodel.VAE(**TINY_VAE)
    with pytest.raises(genmodel.InvalidArgumentError, match="gm_vae_set_allreduce"):
        vae.set_allreduce(lambda buf: None, 2, 2)
    with pytest.raises(genmodel.InvalidArgumentError, match="reduction function"):
        vae.set_allreduce(None, 0, 2)
    vae.close()
