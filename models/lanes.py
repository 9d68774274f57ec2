"""CPU forward lanes: threads that each run one forward pass at a time on one core.

On CPU a forward pass parallelised over an OpenMP team of all cores stalls whenever the OS
preempts one member: the others wait for it at every operator. Batches run side by side on
single-threaded lanes instead, so that a preempted lane delays only its own batch: on 2 cores
shared with the broker, the search server and the worker's event loop, 21 % more events/s end
to end (docs/benchmarks.md, "Forward lanes").
"""

from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor

import torch


def default_lanes() -> int:
    """torch's own thread count: OMP_NUM_THREADS when set, else the physical cores."""
    return torch.get_num_threads()


@functools.cache
def forward_lanes(n: int) -> ThreadPoolExecutor:
    """`n` started threads, each with one torch thread; one pool per process and size.

    `torch.set_num_threads` also sets the count that threads starting torch work later
    take, so the caller's count is put back once every lane has its own. A lane reads its
    count first: a thread takes that shared count at its first read, and would otherwise
    take the caller's at its first parallel operator.
    """
    if n < 1:
        raise ValueError(f"forward lanes need at least one thread, not {n}")
    caller = torch.get_num_threads()
    lanes = ThreadPoolExecutor(max_workers=n, thread_name_prefix="argus-forward")
    started = threading.Barrier(n)  # n tasks held at once take n distinct threads

    def single_threaded() -> None:
        torch.get_num_threads()
        torch.set_num_threads(1)
        started.wait()

    for task in [lanes.submit(single_threaded) for _ in range(n)]:
        task.result()
    torch.set_num_threads(caller)
    return lanes
