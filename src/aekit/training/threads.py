"""How many CPU threads a training run uses.

Small models spend a step in thread start-up and barriers rather than arithmetic: on a 2-core machine a
5-5-2-5 model ran 5x faster per step on one thread than on two (31.5 vs 5.9 ms/step with the cores
shared). Larger steps use torch's default, less the cores other processes keep busy: an OpenMP thread
that waits for a busy core stalls every barrier, and the 784-32-784 MNIST epoch took 0.67-0.77 s on two
threads beside one busy core against 0.59 s on one thread (0.40 s on two idle cores). The setting is
restored afterwards: a library must not change its caller's process-wide state.
"""
from __future__ import annotations

import contextlib
import os
from typing import Optional

import torch

#: below this many multiply-adds per training step (forward + backward), one thread is faster
SINGLE_THREAD_BELOW = 2e7


def step_flops(model: torch.nn.Module, batch_size: int) -> float:
    """Rough multiply-adds of one training step: three passes (forward, two backward) over every weight."""
    return 3.0 * batch_size * sum(p.numel() for p in model.parameters())


def idle_cores() -> int:
    """Cores not kept busy by other processes (1-minute load average), at least 1."""
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return os.cpu_count() or 1
    return max(1, int((os.cpu_count() or 1) - busy + 0.5))


@contextlib.contextmanager
def cpu_threads(num_threads: Optional[int], model: torch.nn.Module, batch_size: int, device: str):
    """Run the body with ``num_threads`` threads (None: 1 for small steps, torch's default otherwise)."""
    if device != "cpu":
        yield
        return
    before = torch.get_num_threads()
    wanted = num_threads if num_threads is not None else (
        1 if step_flops(model, batch_size) < SINGLE_THREAD_BELOW else min(before, idle_cores()))
    torch.set_num_threads(int(wanted))
    try:
        yield
    finally:
        torch.set_num_threads(before)
