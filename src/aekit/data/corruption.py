"""Corruptions drawn afresh for every batch: this is what makes an autoencoder denoising.

``corruption(batch, generator) -> corrupted batch``; the clean batch stays the target.
"""
from __future__ import annotations

from typing import Optional

import torch

NOISES = ("gaussian",)


class GaussianNoise:
    """``x + factor * N(0, 1)``, clipped to the data range (the tutorials clip to [0, 1])."""

    def __init__(self, factor: float, clip: Optional[tuple] = (0.0, 1.0)):
        self.factor = float(factor)
        self.clip = clip

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        noisy = x + self.factor * torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype)
        return noisy.clamp_(*self.clip) if self.clip is not None else noisy


def make_corruption(noise: Optional[str], noise_factor: float, clip: Optional[tuple]):
    """The corruption named by the estimator's ``noise`` parameter, or None."""
    if noise is None:
        return None
    if noise == "gaussian":
        return GaussianNoise(noise_factor, clip)
    raise ValueError(f"noise must be None or one of {NOISES}, got {noise!r}")
