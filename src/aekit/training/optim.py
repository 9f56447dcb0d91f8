"""The optimizers of the training loop.

Adam and AdamW are aekit's own small class around the kernel that ``torch.optim.Adam(fused=True)`` runs,
called directly. The arithmetic is torch's; what is left out is the machinery around it: constructing a
``torch.optim`` optimizer imports ``torch._dynamo`` (about 800 modules and 70 MB of resident memory, a
third of what training the tutorial model adds to its data), and each ``step()`` spends about 150 us in
Python before the kernel, 12% of a tutorial-model step. Where the fused kernel is missing (torch < 2.4 on a
CPU, mixed devices or dtypes) the same update runs as a few ``torch._foreach`` calls.
SGD (momentum 0.9) and RMSprop are torch's own.
"""
from __future__ import annotations

import math

import torch

from .config import TrainConfig


class Adam:
    """Adam (``decoupled=False``: weight decay added to the gradient) or AdamW (decay applied to the weights).

    The same update and state as ``torch.optim.Adam`` / ``torch.optim.AdamW`` (``betas=(0.9, 0.999)``,
    ``eps=1e-8``; ``weight_decay`` as given: aekit passes ``TrainConfig.weight_decay``, 0 unless set);
    ``state_dict`` is not offered (aekit keeps no optimizer state between fits).
    """

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.0, decoupled: bool = False,
                 betas: tuple = (0.9, 0.999), eps: float = 1e-8):
        self.params = [p for p in params if p.requires_grad]
        if not self.params:
            raise ValueError("the optimizer got no parameters that require gradients")
        self.lr, self.weight_decay, self.decoupled = float(lr), float(weight_decay), bool(decoupled)
        self.beta1, self.beta2, self.eps = float(betas[0]), float(betas[1]), float(eps)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        # a step count per parameter, a float32 scalar on its device, as the fused kernel takes them; one
        # tensor shared by all while every step updates every parameter (one increment instead of many)
        count = torch.zeros((), dtype=torch.float32, device=self.params[0].device)
        self.steps, self._shared_steps = [count] * len(self.params), True
        self._fused = _fused_kernel(self.params, decoupled)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        if len(live) < len(self.params):
            if self._shared_steps:  # from now on each parameter counts its own steps
                self.steps, self._shared_steps = [s.clone() for s in self.steps], False
            pick = lambda seq: [seq[i] for i in live]  # noqa: E731
        else:
            pick = lambda seq: seq  # noqa: E731
        params, m, v, steps = pick(self.params), pick(self.exp_avg), pick(self.exp_avg_sq), pick(self.steps)
        if not params:
            return
        grads = [p.grad for p in params]
        if self._shared_steps:
            self.steps[0].add_(1.0)
        else:
            torch._foreach_add_(steps, 1.0)
        if self._fused is not None:
            self._fused(params, grads, m, v, [], steps, lr=self.lr, beta1=self.beta1, beta2=self.beta2,
                        weight_decay=self.weight_decay, eps=self.eps, amsgrad=False, maximize=False)
            return
        counts = [int(s.item()) for s in steps]
        for t in sorted(set(counts)):  # one group per step count (parameters that missed steps lag)
            group = [i for i, c in enumerate(counts) if c == t]
            self._foreach_step(*([seq[i] for i in group] for seq in (params, grads, m, v)), t)

    def _foreach_step(self, params, grads, m, v, t: int) -> None:
        """The same update without the fused kernel (all parameters share one step count)."""
        if self.weight_decay:
            if self.decoupled:
                torch._foreach_mul_(params, 1.0 - self.lr * self.weight_decay)
            else:
                grads = torch._foreach_add(grads, params, alpha=self.weight_decay)
        torch._foreach_lerp_(m, grads, 1.0 - self.beta1)
        torch._foreach_mul_(v, self.beta2)
        torch._foreach_addcmul_(v, grads, grads, 1.0 - self.beta2)
        bias1, bias2 = 1.0 - self.beta1 ** t, 1.0 - self.beta2 ** t
        denom = torch._foreach_sqrt(v)
        torch._foreach_div_(denom, math.sqrt(bias2))
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(params, m, denom, -self.lr / bias1)


def _fused_kernel(params, decoupled: bool):
    """torch's fused Adam(W) kernel, where it exists for these parameters' device and dtype; else None."""
    kernel = getattr(torch, "_fused_adamw_" if decoupled else "_fused_adam_", None)
    if kernel is None or len({(p.device, p.dtype) for p in params}) != 1:
        return None
    p = params[0]
    if not p.dtype.is_floating_point or (p.device.type == "cpu" and not _cpu_fused_available()):
        return None
    return kernel


def _cpu_fused_available() -> bool:
    """The CPU fused Adam kernel arrived in torch 2.4."""
    major, minor = (int(v) for v in torch.__version__.split(".")[:2])
    return (major, minor) >= (2, 4)


def make_optimizer(params, config: TrainConfig):
    if callable(config.optimizer):
        return _from_factory(config.optimizer, list(params))
    lr, wd = float(config.learning_rate), float(config.weight_decay)
    if config.optimizer in ("adam", "adamw"):
        return Adam(params, lr=lr, weight_decay=wd, decoupled=config.optimizer == "adamw")
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=wd, foreach=True)
    return torch.optim.SGD(params, lr=lr, weight_decay=wd, momentum=0.9, foreach=True)


def _from_factory(factory, params: list):
    """``factory(params)``, checked to be something the loop can step."""
    optimizer = factory(params)
    if not (callable(getattr(optimizer, "step", None)) and callable(getattr(optimizer, "zero_grad", None))):
        raise TypeError(f"the optimizer factory must return a torch.optim.Optimizer (with step and zero_grad), "
                        f"got {type(optimizer).__name__}; e.g. optimizer=lambda p: torch.optim.SGD(p, lr=0.1)")
    return optimizer
