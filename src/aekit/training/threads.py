"""How many CPU threads a training run uses.

Small models spend a step in thread start-up and barriers rather than arithmetic: on a 2-core machine a
5-5-2-5 model ran 5x faster per step on one thread than on two (31.5 vs 5.9 ms/step with the cores
shared). Larger steps keep torch's default. (Busy cores hurt too: the 784-32-784 MNIST epoch took
0.67-0.77 s on two threads beside one busy core against 0.59 s on one thread and 0.40 s on two idle cores;
but the load average lags by a minute, and choosing by it slowed a run that followed a busy one, so the
thread count stays predictable and ``TrainConfig.num_threads`` is the knob.) The setting is restored
afterwards: a library must not change its caller's process-wide state.
"""
from __future__ import annotations

import contextlib
from typing import Optional

import torch

#: below this many multiply-adds per training step (forward + backward), one thread is faster
SINGLE_THREAD_BELOW = 2e7


def step_flops(model: torch.nn.Module, batch_size: int) -> float:
    """Rough multiply-adds of one training step: three passes (forward, two backward) over every weight."""
    return 3.0 * batch_size * sum(p.numel() for p in model.parameters())


@contextlib.contextmanager
def cpu_threads(num_threads: Optional[int], model: torch.nn.Module, batch_size: int, device: str):
    """Run the body with ``num_threads`` threads (None: 1 for small steps, torch's default otherwise)."""
    if device != "cpu":
        yield
        return
    before = torch.get_num_threads()
    wanted = num_threads if num_threads is not None else (
        1 if step_flops(model, batch_size) < SINGLE_THREAD_BELOW else before)
    torch.set_num_threads(int(wanted))
    try:
        yield
    finally:
        torch.set_num_threads(before)
