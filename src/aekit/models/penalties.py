"""Penalties on the code that any model can carry: this is what makes an autoencoder sparse.

A penalty is a callable ``penalty(out) -> scalar`` with a ``name``; the trainer adds it to the loss.
"""
from __future__ import annotations

import torch
from torch import nn


class L1Activity(nn.Module):
    """Keras' ``activity_regularizer=l1(weight)`` on the code: ``weight * sum|z| / batch_size``.

    Keras sums the absolute activations over the batch and divides by the batch size, so the penalty per
    sample is ``weight * sum_j |z_j|``, independent of the batch size.
    """

    name = "l1_activity"

    def __init__(self, weight: float):
        super().__init__()
        self.weight = float(weight)

    def forward(self, out: dict) -> torch.Tensor:
        code = out["code"]  # (batch, latent_dim)
        return self.weight * code.abs().sum() / code.shape[0]


def make_penalties(activity_l1: float = 0.0) -> list:
    """The penalties asked for by the estimator's parameters (empty list for none)."""
    penalties = []
    if activity_l1:
        if activity_l1 < 0:
            raise ValueError(f"activity_l1 must be >= 0, got {activity_l1!r}")
        penalties.append(L1Activity(activity_l1))
    return penalties
