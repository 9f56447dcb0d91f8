"""Dense autoencoders: undercomplete, deep, linear (``hidden=()`` with linear activations)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from torch import nn

from ._registry import register_model
from .base import Autoencoder, ModelConfig, glorot_init, make_activation
from .dense_step import DenseStep


@dataclass
class DenseConfig(ModelConfig):
    hidden: tuple = (128, 64)
    #: decoder widths; None mirrors ``hidden`` (the usual symmetric autoencoder)
    decoder_hidden: Optional[tuple] = None
    activation: str = "relu"
    latent_activation: str = "linear"
    batch_norm: bool = False
    dropout: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        self.hidden = tuple(int(h) for h in self.hidden)
        if self.decoder_hidden is not None:
            self.decoder_hidden = tuple(int(h) for h in self.decoder_hidden)
        if any(h < 1 for h in self.hidden + (self.decoder_hidden or ())):
            raise ValueError(f"layer widths must be positive integers, got hidden={self.hidden!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")


def dense_stack(widths, activation: str, batch_norm: bool, dropout: float) -> list:
    """Linear -> [BatchNorm] -> activation -> [Dropout] for each consecutive pair of ``widths``."""
    layers = []
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        layers.append(nn.Linear(n_in, n_out))
        if batch_norm:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(make_activation(activation))
        if dropout:
            layers.append(nn.Dropout(dropout))
    return layers


def dense_decoder(c: DenseConfig, n_features: int) -> nn.Sequential:
    """``latent -> decoder_hidden... -> n_features`` logits; ``decoder_hidden=None`` mirrors ``hidden``."""
    widths = (c.latent_dim,) + (tuple(reversed(c.hidden)) if c.decoder_hidden is None else c.decoder_hidden)
    return nn.Sequential(
        *dense_stack(widths, c.activation, c.batch_norm, c.dropout),
        nn.Linear(widths[-1], n_features),  # logits
    )


@register_model("dense")
class DenseAutoencoder(Autoencoder):
    """``input -> hidden... -> latent -> decoder_hidden... -> input``, all fully connected.

    Takes flat vectors ``(batch, n_features)``; images are flattened by the caller.
    """

    Config = DenseConfig
    sample_ranks = (1,)

    def __init__(self, config: DenseConfig):
        super().__init__(config)
        c = config
        n_features = math.prod(c.input_shape)
        self.encoder = nn.Sequential(
            *dense_stack((n_features,) + c.hidden, c.activation, c.batch_norm, c.dropout),
            nn.Linear(((n_features,) + c.hidden)[-1], c.latent_dim),
            make_activation(c.latent_activation),
        )
        self.decoder = dense_decoder(c, n_features)
        self.apply(glorot_init)

    def fused_training_step(self, max_rows: int):
        return DenseStep.for_model(self, max_rows)
