#!/usr/bin/python3
"""The cost of one gradient all-reduce alone (bench/scaling.sh).

    mpirun -np 2 /usr/bin/python3 bench/allreduce_bench.py COUNT [COUNT ...]

For each COUNT (floats), times MPI_Allreduce(IN_PLACE, SUM) of a float32
buffer, as the genmodel tool's hook makes it, between ranks that do
nothing else: a barrier, then the calls back to back. Rank 0 prints

    RESULT name=allreduce count=COUNT ranks=N unit=ms value=MEDIAN_MS min=MIN_MS

over BENCH_CALLS calls (default 50) after 5 warm-up calls. Needs
python3-mpi4py and python3-numpy.
"""
import os
import statistics
import sys
import time

import numpy as np
from mpi4py import MPI


def main():
    comm = MPI.COMM_WORLD
    calls = int(os.environ.get("BENCH_CALLS", "50"))
    for count in map(int, sys.argv[1:]):
        buf = np.ones(count, dtype=np.float32)
        for _ in range(5):
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        times = []
        for _ in range(calls):
            comm.Barrier()
            started = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
            times.append(time.perf_counter() - started)
        # a call ends on all ranks when the slowest has its result
        slowest = np.empty(calls)
        comm.Reduce(np.array(times), slowest, op=MPI.MAX, root=0)
        if comm.rank == 0:
            print(f"RESULT name=allreduce count={count} ranks={comm.size} unit=ms "
                  f"value={1e3 * statistics.median(slowest):.3f} min={1e3 * min(slowest):.3f}", flush=True)


if __name__ == "__main__":
    main()
