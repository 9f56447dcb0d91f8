"""How many CPU threads a training run uses.

Small models spend a step in thread start-up and barriers rather than arithmetic: on a 2-core machine a
5-5-2-5 model ran 5x faster per step on one thread than on two (31.5 vs 5.9 ms/step with the cores
shared). Larger steps keep torch's default. What counts is the step's arithmetic, not its weights: a
convolution reuses its few weights at every pixel (keras-io's conv autoencoder has 28,353 weights, as
many as a 784-36-784 dense model, and 130 times its multiply-adds), and an LSTM at every time step; one
thread made that conv model's step 1.5x slower than torch's two (132 vs 88 ms on 2 cores), and aekit 2x
slower than a plain PyTorch loop of it. So the work is counted on one sample run through the model.
(Busy cores hurt too: the 784-32-784 MNIST epoch took 0.67-0.77 s on two threads beside one busy core
against 0.59 s on one thread and 0.40 s on two idle cores; but the load average lags by a minute, and
choosing by it slowed a run that followed a busy one, so the thread count stays predictable and
``TrainConfig.num_threads`` is the knob.) The setting is restored afterwards: a library must not change
its caller's process-wide state.
"""
from __future__ import annotations

import contextlib
from typing import Optional

import torch
from torch import nn

#: below this many multiply-adds per training step (forward + backward), one thread is faster
SINGLE_THREAD_BELOW = 2e7


def _multiply_adds(module: nn.Module, inputs: tuple, output) -> int:
    """Multiply-adds of one call of a layer with weights (0 for anything else)."""
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    if isinstance(module, nn.modules.conv._ConvTransposeNd):  # every input pixel meets the whole kernel
        return inputs[0].numel() * module.weight[0].numel()
    if isinstance(module, nn.modules.conv._ConvNd):  # every output pixel reads one window
        return output.numel() * module.weight[0].numel()
    if isinstance(module, nn.RNNBase):  # every layer's weights at every time step of every sequence
        steps = inputs[0].numel() // inputs[0].shape[-1]
        return steps * sum(w.numel() for name, w in module.named_parameters() if name.startswith("weight"))
    return 0


def step_flops(model: nn.Module, batch_size: int) -> float:
    """Rough multiply-adds of one training step: three passes (forward, two backward) over one sample's
    forward work, counted by running one zero sample of ``model.config.input_shape`` through the model
    (a model without one, or that cannot take it: its weight count stands for a sample's work)."""
    weights = sum(p.numel() for p in model.parameters())
    shape = getattr(getattr(model, "config", None), "input_shape", None)
    first = next(model.parameters(), None)
    if shape is None or first is None:
        return 3.0 * batch_size * weights
    counts = []

    def count(module, inputs, output):
        counts.append(_multiply_adds(module, inputs, output))

    handles = [m.register_forward_hook(count) for m in model.modules()]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1,) + tuple(shape), dtype=first.dtype, device=first.device))
    except Exception:  # only an estimate: the trainer's trial forward reports what is wrong with the model
        counts = [weights]
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return 3.0 * batch_size * max(sum(counts), 1)


@contextlib.contextmanager
def cpu_threads(num_threads: Optional[int], model: nn.Module, batch_size: int, device: str):
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
