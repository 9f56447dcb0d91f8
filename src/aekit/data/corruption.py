"""Corruptions drawn afresh for every batch: this is what makes an autoencoder denoising.

``corruption(batch, generator) -> corrupted batch``; the clean batch stays the target.
"""
from __future__ import annotations

from typing import Optional

import torch

NOISES = ("gaussian", "masking", "salt_and_pepper")


class GaussianNoise:
    """``x + factor * N(0, 1)``, clipped to the data range (the tutorials clip to [0, 1])."""

    def __init__(self, factor: float, clip: Optional[tuple] = (0.0, 1.0)):
        self.factor = float(factor)
        self.clip = clip

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        noisy = x + self.factor * torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype)
        return noisy.clamp_(*self.clip) if self.clip is not None else noisy


class MaskingNoise:
    """Masking (dropout) noise: each element set to 0 with probability ``fraction``, the rest kept."""

    def __init__(self, fraction: float):
        self.fraction = _fraction(fraction, "masking")

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        keep = torch.rand(x.shape, generator=gen, device=x.device) >= self.fraction
        return x * keep


class SaltAndPepper:
    """Each element, with probability ``fraction``, set to the low or the high end of ``clip`` (half each)."""

    def __init__(self, fraction: float, clip: Optional[tuple] = (0.0, 1.0)):
        self.fraction = _fraction(fraction, "salt_and_pepper")
        self.low, self.high = clip if clip is not None else (0.0, 1.0)

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        u = torch.rand(x.shape, generator=gen, device=x.device)
        hit = u < self.fraction
        salt = u < self.fraction / 2  # the first half of the hits
        return torch.where(hit, torch.where(salt, self.high, self.low).to(x.dtype), x)


def _fraction(value: float, noise: str) -> float:
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"noise={noise!r} takes noise_factor as the fraction of elements corrupted, "
                         f"a number in [0, 1]; got {value!r}")
    return float(value)


def make_corruption(noise: Optional[str], noise_factor: float, clip: Optional[tuple]):
    """The corruption named by the estimator's ``noise`` parameter, or None.

    ``noise_factor`` is the gaussian's standard deviation, or the fraction of elements that masking and
    salt-and-pepper corrupt.
    """
    if noise is None:
        return None
    if noise == "gaussian":
        return GaussianNoise(noise_factor, clip)
    if noise == "masking":
        return MaskingNoise(noise_factor)
    if noise == "salt_and_pepper":
        return SaltAndPepper(noise_factor, clip)
    raise ValueError(f"noise must be None or one of {NOISES}, got {noise!r}")
