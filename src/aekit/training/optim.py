"""The optimizers of the training loop.

Adam and AdamW are aekit's own small class around the kernel that ``torch.optim.Adam(fused=True)`` runs,
called directly. The arithmetic is torch's; what is left out is the machinery around it: constructing a
``torch.optim`` optimizer imports ``torch._dynamo`` (about 800 modules and 70 MB of resident memory, a
third of what training the tutorial model adds to its data), and each ``step()`` spends about 150 us in
Python before the kernel, 12% of a tutorial-model step. Where the fused kernel is missing (torch < 2.4 on a
CPU, mixed devices or dtypes) the same update runs as a few ``torch._foreach`` calls.
SGD (momentum 0.9) and RMSprop are torch's own.

``Adam`` is a ``torch.optim.Optimizer`` by type (it sets the attributes that ``torch.optim.lr_scheduler`` reads:
``param_groups``, ``defaults``, ``state``) without running ``Optimizer.__init__``, whose step wrapper and
hooks are the machinery left out; ``state_dict`` / ``load_state_dict`` use torch's layout
(``{"state": {i: {"step", "exp_avg", "exp_avg_sq"}}, "param_groups": [...]}``), so checkpoints carry it.
"""
from __future__ import annotations

import math
from collections import OrderedDict, defaultdict

import torch

from .config import TrainConfig


class Adam(torch.optim.Optimizer):
    """Adam (``decoupled=False``: weight decay added to the gradient) or AdamW (decay applied to the weights).

    The same update and state as ``torch.optim.Adam`` / ``torch.optim.AdamW`` (``betas=(0.9, 0.999)``,
    ``eps=1e-8``; ``weight_decay`` as given: aekit passes ``TrainConfig.weight_decay``, 0 unless set).
    The learning rate is read from ``param_groups[0]["lr"]`` at every step, where schedulers write it.
    """

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.0, decoupled: bool = False,
                 betas: tuple = (0.9, 0.999), eps: float = 1e-8):
        self.params = [p for p in params if p.requires_grad]
        if not self.params:
            raise ValueError("the optimizer got no parameters that require gradients")
        self.weight_decay, self.decoupled = float(weight_decay), bool(decoupled)
        self.defaults = {"lr": float(lr), "betas": tuple(betas), "eps": float(eps), "weight_decay": self.weight_decay}
        self.param_groups = [{"params": self.params, **self.defaults}]
        self.state = defaultdict(dict)  # torch's per-parameter state, unused: ours is in the lists below
        self._optimizer_step_pre_hooks, self._optimizer_step_post_hooks = OrderedDict(), OrderedDict()
        self.beta1, self.beta2, self.eps = float(betas[0]), float(betas[1]), float(eps)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        # a step count per parameter, a float32 scalar on its device, as the fused kernel takes them; one
        # tensor shared by all while every step updates every parameter (one increment instead of many)
        count = torch.zeros((), dtype=torch.float32, device=self.params[0].device)
        self.steps, self._shared_steps = [count] * len(self.params), True
        self._fused = _fused_kernel(self.params, decoupled)

    @property
    def lr(self) -> float:
        return self.param_groups[0]["lr"]

    def state_dict(self) -> dict:
        """torch's layout: per parameter index its step count and moments; the hyper-parameters."""
        state = {i: {"step": self.steps[i].clone(), "exp_avg": self.exp_avg[i].clone(),
                     "exp_avg_sq": self.exp_avg_sq[i].clone()} for i in range(len(self.params))}
        group = {k: v for k, v in self.param_groups[0].items() if k != "params"}
        return {"state": state, "param_groups": [{**group, "params": list(range(len(self.params)))}],
                "shared_steps": self._shared_steps}

    def load_state_dict(self, state_dict: dict) -> None:
        state = {int(k): v for k, v in state_dict["state"].items()}
        if sorted(state) != list(range(len(self.params))):
            raise ValueError(f"the optimizer state holds {len(state)} parameters, this optimizer has "
                             f"{len(self.params)}; load the state of the same model")
        with torch.no_grad():
            for i, p in enumerate(self.params):
                self.exp_avg[i].copy_(state[i]["exp_avg"])
                self.exp_avg_sq[i].copy_(state[i]["exp_avg_sq"])
        steps = [torch.as_tensor(state[i]["step"], dtype=torch.float32).to(self.params[i].device).clone()
                 for i in range(len(self.params))]
        self._shared_steps = bool(state_dict.get("shared_steps", False))
        self.steps = [steps[0]] * len(steps) if self._shared_steps else steps
        group = {k: v for k, v in state_dict["param_groups"][0].items() if k != "params"}
        self.param_groups[0].update(group)

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
