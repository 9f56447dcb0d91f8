"""Everything a training run is at one moment, in one object that saves and loads (nanoGPT's checkpoint dict).

The loop keeps no state of its own: it reads and writes a :class:`TrainState`. A checkpoint is
``state.state_dict()`` (``training/checkpoint.py`` writes its tensors to safetensors and the rest to JSON);
``load_state_dict`` puts a run back exactly where it was, down to the random generators and the
per-batch losses of the epoch in progress, so a resumed run computes the same weights bit for bit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

import torch
from torch import nn


@dataclass(eq=False)
class TrainState:
    """The model, its optimizer and generator, and where the run stands.

    ``epoch`` counts finished epochs and ``step`` the optimizer steps of the epoch in progress;
    ``epoch_generator`` is the generator's state when that epoch began (it drew the epoch's order);
    ``rows`` the per-batch loss terms of the epoch so far, ``sizes`` their batch sizes.
    """

    model: nn.Module
    optimizer: Any
    generator: torch.Generator
    epoch: int = 0
    step: int = 0
    epoch_generator: Optional[torch.Tensor] = None
    rows: list = field(default_factory=list)
    sizes: list = field(default_factory=list)
    names: Optional[list] = None
    history: dict = field(default_factory=dict)
    best_loss: float = math.inf
    best_weights: Optional[dict] = None
    best_epoch: int = -1
    wait: int = 0
    finished: bool = False
    #: anything the owner of the run stores with it (the estimator: its scaler and settings), JSON and tensors
    extra: dict = field(default_factory=dict)

    def begin_epoch(self) -> None:
        """Remember the generator's state at the start of an epoch (it is about to draw the order)."""
        self.epoch_generator = self.generator.get_state()
        self.step, self.rows, self.sizes = 0, [], []

    def end_epoch(self) -> None:
        self.epoch += 1
        self.step, self.rows, self.sizes, self.epoch_generator = 0, [], [], None

    def observe(self, monitored: float, min_delta: float, patience: Optional[int]) -> bool:
        """Early stopping's bookkeeping after an epoch; True when patience has run out."""
        if monitored < self.best_loss - float(min_delta):
            self.wait = 0
            if patience is not None:
                self.best_loss, self.best_epoch = monitored, self.epoch
                self.best_weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            return False
        self.wait += 1
        return patience is not None and self.wait >= int(patience)

    # -- saving and loading ----------------------------------------------------------------------
    def state_dict(self) -> dict:
        rows = torch.stack([torch.stack(row) for row in self.rows]).cpu() if self.rows else None
        return {
            "model": {k: v.detach().clone() for k, v in self.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": _global_rng_states(self.generator.device),
            "epoch": self.epoch, "step": self.step, "epoch_generator": self.epoch_generator,
            "rows": rows, "sizes": list(self.sizes), "names": self.names,
            "history": self.history, "best_loss": self.best_loss, "best_weights": self.best_weights,
            "best_epoch": self.best_epoch, "wait": self.wait, "finished": self.finished,
            "extra": self.extra,
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])
        _set_global_rng_states(state["torch_rng"])
        self.epoch, self.step, self.epoch_generator = int(state["epoch"]), int(state["step"]), state["epoch_generator"]
        device = next(self.model.parameters()).device
        rows = state["rows"]
        self.rows = [] if rows is None else [tuple(r.to(device).unbind()) for r in rows]
        self.sizes, self.names = list(state["sizes"]), state["names"]
        self.history = {k: list(v) if isinstance(v, list) else v for k, v in state["history"].items()}
        self.best_loss, self.best_epoch, self.wait = float(state["best_loss"]), int(state["best_epoch"]), int(state["wait"])
        best = state["best_weights"]
        self.best_weights = None if best is None else {k: v.to(device) for k, v in best.items()}
        self.finished = bool(state["finished"])
        self.extra = state.get("extra", {})


def _global_rng_states(device: torch.device) -> dict:
    """torch's global generators (dropout draws from them): the CPU's and, on a GPU run, that device's."""
    states = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def _set_global_rng_states(states: dict) -> None:
    torch.set_rng_state(states["cpu"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state(states["cuda"])
