"""Variational autoencoders: a Gaussian encoder, the reparameterisation trick, the KL term always on.

The loss is the negative ELBO *per sample*, as the keras-io VAE example reports it:

    reconstruction = sum over the sample's elements of BCE (or squared error), averaged over the batch
    kl             = sum over latent units of KL(N(mu, sigma^2) || N(0, 1)), averaged over the batch
    loss           = reconstruction + beta * kl

so ``history_`` holds ``reconstruction`` and ``kl`` (the unweighted KL) side by side, and with ``beta=1``
``loss == reconstruction + kl``. These are sums per sample, not the per-element means of the other kinds.
In eval mode the code is the mean ``mu`` (deterministic transforms and reconstructions); in training
mode ``z = mu + sigma * eps``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ._registry import register_model
from .base import Autoencoder, activate, glorot_init
from .conv import ConvConfig, ConvDecoder, ConvEncoder
from .dense import DenseConfig, dense_decoder, dense_stack


def _check_beta(config) -> None:
    if not float(config.beta) >= 0.0:
        raise ValueError(f"beta (the weight of the KL term) must be >= 0, got {config.beta!r}")


@dataclass
class DenseVAEConfig(DenseConfig):
    #: weight of the KL term; 0 turns the model into a (noisy) plain autoencoder
    beta: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        _check_beta(self)


@dataclass
class ConvVAEConfig(ConvConfig):
    beta: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        _check_beta(self)
        if self.bottleneck != "dense":
            raise ValueError("a convolutional VAE needs bottleneck='dense' (its code is a Gaussian of latent_dim "
                             f"units), got bottleneck={self.bottleneck!r}")


class GaussianEncoder(nn.Module):
    """``features`` then two linear heads: ``distribution(x) -> (mu, logvar)``; calling it gives ``mu``."""

    def __init__(self, features: nn.Module, n_features: int, latent_dim: int):
        super().__init__()
        self.features = features
        self.mu = nn.Linear(n_features, latent_dim)
        self.logvar = nn.Linear(n_features, latent_dim)

    def distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.features(x)  # (batch, n_features)
        return self.mu(h), self.logvar(h)  # (batch, latent_dim) each

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mu(self.features(x))


class VariationalAutoencoder(Autoencoder):
    """What every VAE shares; subclasses build ``encoder`` (a GaussianEncoder) and ``decoder``."""

    variational = True

    def __init__(self, config):
        super().__init__(config)
        #: multiplies beta; a warm-up callback ramps it from 0 to 1 (not saved: a training-time setting)
        self.kl_scale = 1.0

    def forward(self, x: torch.Tensor) -> dict:
        mu, logvar = self.encoder.distribution(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return {"code": mu, "mu": mu, "logvar": logvar, "z": z, "logits": self.decode_logits(z)}

    def _terms(self, out: dict, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample reconstruction and KL, each ``(batch,)``."""
        logits = out["logits"]
        if self.config.loss == "bce":
            rec = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        else:
            rec = (activate(logits, self.config) - target).pow(2)
        mu, logvar = out["mu"], out["logvar"]
        kl = -0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)
        return rec.flatten(1).sum(dim=1), kl

    def loss(self, out: dict, target: torch.Tensor) -> tuple[torch.Tensor, dict]:
        rec, kl = (t.mean() for t in self._terms(out, target))
        total = rec + float(self.config.beta) * float(self.kl_scale) * kl
        return total, {"reconstruction": rec, "kl": kl}

    def per_sample_error(self, out: dict, target: torch.Tensor) -> torch.Tensor:
        """The negative ELBO of each sample (beta = 1, decoded from the mean code in eval mode)."""
        rec, kl = self._terms(out, target)
        return rec + kl


@register_model("vae")
class DenseVAE(VariationalAutoencoder):
    """Dense VAE: ``input -> hidden... -> (mu, logvar) -> z -> decoder_hidden... -> input``."""

    Config = DenseVAEConfig
    sample_ranks = (1,)

    def __init__(self, config: DenseVAEConfig):
        super().__init__(config)
        c = config
        n_features = math.prod(c.input_shape)
        widths = (n_features,) + c.hidden
        features = nn.Sequential(*dense_stack(widths, c.activation, c.batch_norm, c.dropout))
        self.encoder = GaussianEncoder(features, widths[-1], c.latent_dim)
        self.decoder = dense_decoder(c, n_features)
        self.apply(glorot_init)


@register_model("conv_vae")
class ConvVAE(VariationalAutoencoder):
    """Convolutional VAE; with ``filters=(32, 64), downsample='stride', upsample='transpose', hidden=(16,),
    decoder_hidden=(), latent_dim=2`` it is the keras-io VAE layer for layer (69,076 + 65,089 weights)."""

    Config = ConvVAEConfig
    sample_ranks = (2, 3)

    def __init__(self, config: ConvVAEConfig):
        super().__init__(config)
        features = ConvEncoder(config, head=False)
        self.encoder = GaussianEncoder(features, features.out_features, config.latent_dim)
        self.decoder = ConvDecoder(config)
        self.apply(glorot_init)
        self.to(memory_format=torch.channels_last)  # as ConvAutoencoder: faster on CPU
