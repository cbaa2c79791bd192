#!/usr/bin/python3
"""Train one VAE on several MPI ranks at once with mpi4py (data-parallel).

    GENMODEL_LIBRARY=build/lib/libgenmodel.so.0 PYTHONPATH=bindings/python \\
        mpirun -np 2 /usr/bin/python3 bindings/python/examples/train_mpi.py --epochs 3

Every rank builds the same model from the same seed and shuffles the data
the same way; each step, each rank trains on its share of the global batch
and the library averages the gradients through the hook given to
set_allreduce, here an MPI all-reduce. N ranks reproduce one process's
training at the global batch (docs/distributed.md). Rank 0 prints the
losses and saves the model (--out); at the end every rank's checkpoint is
compared. With --data, trains on an MNIST-family directory (Debian's
dataset-fashion-mnist); without it, on small random binary patterns.
"""
import argparse
import hashlib
from typing import Callable, Optional

import numpy as np
import numpy.typing as npt
from mpi4py import MPI

import genmodel


def mpi_allreduce(comm: MPI.Intracomm) -> Callable[[npt.NDArray[np.float32]], None]:
    """The hook: the mean of each value over every rank, in place; every
    rank receives the same sums, so their weights stay bit-identical."""
    scale = np.float32(1.0 / comm.Get_size())

    def allreduce(buf: npt.NDArray[np.float32]) -> None:
        comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        buf *= scale
    return allreduce


def patterns(n: int, dim: int, seed: int) -> npt.NDArray[np.float32]:
    """n binary rows of dim values: 4 prototypes, each value flipped with probability 0.05."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((4, dim)) < 0.5
    rows = prototypes[rng.integers(0, 4, n)] ^ (rng.random((n, dim)) < 0.05)
    return rows.astype(np.float32)


def main(argv: Optional[list] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="an MNIST-family directory (default: random patterns)")
    p.add_argument("--epochs", type=int, default=3, help="passes over the training set (%(default)s)")
    p.add_argument("--batch", type=int, default=32, help="the global batch: rows per step over all ranks (%(default)s)")
    p.add_argument("--out", help="where rank 0 saves the model")
    args = p.parse_args(argv)

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    if args.batch % size:
        raise SystemExit(f"--batch {args.batch} does not split evenly across {size} ranks")
    x = genmodel.load_mnist(args.data)[0] if args.data else patterns(512, 64, seed=1)
    vae = genmodel.VAE(input_dim=x.shape[1], latent_dim=8, enc_hidden=(64,), dec_hidden=(64,), seed=0)
    vae.set_allreduce(mpi_allreduce(comm), rank, size)

    share = args.batch // size
    for epoch in range(1, args.epochs + 1):
        order = vae.shuffle(len(x))  # the same order on every rank: the same seed, the same draws
        total, steps = 0.0, 0
        for at in range(0, len(x) - args.batch + 1, args.batch):
            mine = order[at + rank * share:at + (rank + 1) * share]
            total += vae.train_step(x[mine]).neg_elbo  # the global batch's loss, on every rank
            steps += 1
        if rank == 0:
            print(f"epoch {epoch}: -ELBO {total / steps:.3f}", flush=True)

    digests = comm.allgather(hashlib.sha256(vae.to_bytes()).hexdigest())
    if rank == 0:
        if args.out:
            vae.save(args.out)
        same = len(set(digests)) == 1
        print(f"{size} ranks hold the same model" if same else f"the ranks' models differ: {digests}")
        if not same:
            comm.Abort(1)


if __name__ == "__main__":
    main()
