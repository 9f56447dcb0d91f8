"""The contract every autoencoder in aekit follows.

A model is an ``nn.Module`` that knows nothing of numpy, files, optimizers or devices:

- ``encode(x) -> z``: the code, ``(batch, latent_dim)``;
- ``decode(z) -> x_hat``: the reconstruction, output activation applied;
- ``forward(x) -> dict``: at least ``code`` and ``logits`` (the decoder output before its activation);
- ``loss(out, target) -> (total, terms)``: the scalar to minimise and its named parts;
- ``per_sample_error(out, target) -> (batch,)``: what scoring ranks samples by (higher = worse).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "linear": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "softplus": nn.Softplus,
}
OUTPUT_ACTIVATIONS = ("sigmoid", "linear")
LOSSES = ("bce", "mse")


def make_activation(name: str) -> nn.Module:
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of: {', '.join(sorted(ACTIVATIONS))}"
        ) from None


@dataclass
class ModelConfig:
    """Fields every model has. ``input_shape`` is one sample's shape, e.g. ``(784,)`` or ``(1, 28, 28)``."""

    input_shape: tuple = (1,)
    latent_dim: int = 2
    output_activation: str = "sigmoid"
    loss: str = "bce"

    def __post_init__(self):
        self.input_shape = tuple(int(s) for s in self.input_shape)
        if self.output_activation not in OUTPUT_ACTIVATIONS:
            raise ValueError(
                f"output_activation must be one of {OUTPUT_ACTIVATIONS}, got {self.output_activation!r}"
            )
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.loss == "bce" and self.output_activation != "sigmoid":
            raise ValueError("loss='bce' needs output_activation='sigmoid'; use loss='mse' for a linear output")
        if int(self.latent_dim) < 1:
            raise ValueError(f"latent_dim must be a positive integer, got {self.latent_dim!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def glorot_init(module: nn.Module) -> None:
    """Keras' default: glorot-uniform weights, zero biases (trains the tutorial model to a lower loss)."""
    if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d)):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def sum_log(p: torch.Tensor, buffer: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``log(p).sum()`` for ``p`` in [4e-18, 1], with one logarithm per 16 elements.

    The logarithm is the costliest kernel of the BCE (a sixth of a tutorial-model epoch); a product of 16
    such values stays above 1e-282, inside float64's range, so ``sum(log(p)) = sum(log(prod of 16))``.
    The 16 are every (numel / 16)-th element: a product across the rows of a (16, numel / 16) view
    vectorises, one within rows of 16 does not (87 against 135 us for 200,704 elements on 2 cores).
    ``buffer``: float64, at least ``p.numel()`` elements, to hold the widened copy (else one is allocated).
    """
    flat = p.reshape(-1)
    whole = flat.numel() - flat.numel() % 16
    head = flat if whole == flat.numel() else flat[:whole]
    wide = head.double() if buffer is None else buffer[:whole].copy_(head)
    total = wide.view(16, -1).prod(dim=0).log_().sum()
    if whole < flat.numel():
        total = total + flat[whole:].double().log().sum()
    return total.to(p.dtype)


def bce_leaving_sigmoid(logits: torch.Tensor, target: torch.Tensor, work: torch.Tensor,
                        buffer: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Mean BCE of ``sigmoid(logits)`` against ``target``; ``work`` (the logits' shape, or the logits
    themselves, which are read first) is left holding ``sigmoid(max(logits, -40))``, from which the gradient
    ``sigmoid(z) - x`` is one subtraction away. ``buffer``: see :func:`sum_log`.

    ``softplus(z) = z - log(sigmoid(z))`` exactly; z is clamped at -40 inside it only, where
    ``softplus(z) < 5e-18``, far below float32's resolution of the summed loss.
    """
    cross = torch.dot(target.reshape(-1), logits.reshape(-1))
    clamped_sum = torch.clamp_min(logits, -40.0, out=work).sum()
    work.sigmoid_()
    return (clamped_sum - cross - sum_log(work, buffer)) / logits.numel()


class _BCEWithLogitsMean(torch.autograd.Function):
    """Mean binary cross-entropy on logits with its gradient, in the fewest passes over the batch.

    Same value and gradient as ``F.binary_cross_entropy_with_logits``, which runs about ten elementwise
    kernels per step (a third of a tutorial-model step). Here: one sigmoid, one logarithm per 16 elements,
    a few reductions (:func:`bce_leaving_sigmoid`), and a gradient ``(sigmoid(z) - x) / N`` formed in place.
    The target gets no gradient.
    """

    @staticmethod
    def forward(ctx, logits, target):
        s = torch.empty_like(logits)
        loss = bce_leaving_sigmoid(logits, target, s)
        if ctx.needs_input_grad[0]:  # not when evaluating
            ctx.save_for_backward(s.sub_(target).mul_(1.0 / logits.numel()))  # d loss / d logits, in place
        return loss

    @staticmethod
    def backward(ctx, grad):
        (dlogits,) = ctx.saved_tensors
        return dlogits * grad, None


def bce_with_logits(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean BCE of ``sigmoid(logits)`` against ``target`` in [0, 1], computed stably on the logits."""
    return _BCEWithLogitsMean.apply(logits, target)


def reconstruction_loss(logits: torch.Tensor, target: torch.Tensor, config: ModelConfig) -> torch.Tensor:
    """Mean over every element, as Keras' per-pixel ``binary_crossentropy`` / ``mse`` report it."""
    if config.loss == "bce":
        # On logits: the gradient is sigmoid(z) - x, and there is no log(0).
        return bce_with_logits(logits, target)
    return F.mse_loss(activate(logits, config), target)


def activate(logits: torch.Tensor, config: ModelConfig) -> torch.Tensor:
    return torch.sigmoid(logits) if config.output_activation == "sigmoid" else logits


class Autoencoder(nn.Module):
    """Base class: subclasses set ``Config``, build ``encoder`` / ``decoder`` and may extend ``loss``."""

    Config = ModelConfig
    kind = "base"  # set by @register_model
    #: ranks of one sample the model takes: 1 = feature vector, 2 = (H, W) or (T, F), 3 = (C, H, W)
    sample_ranks: tuple = (1,)

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return activate(self.decode_logits(z), self.config)

    def forward(self, x: torch.Tensor) -> dict:
        code = self.encode(x)  # (batch, latent_dim)
        return {"code": code, "logits": self.decode_logits(code)}

    def reconstruct(self, out: dict) -> torch.Tensor:
        return activate(out["logits"], self.config)

    #: a user's ``criterion(reconstruction, target) -> scalar`` replacing the reconstruction loss of
    #: non-variational models (``AutoEncoder(loss=callable)``); a training-time setting, never saved
    criterion = None

    def set_criterion(self, criterion) -> None:
        """Use ``criterion`` as the reconstruction loss; kept outside the module tree (not in state_dict)."""
        object.__setattr__(self, "criterion", criterion)

    def loss(self, out: dict, target: torch.Tensor) -> tuple[torch.Tensor, dict]:
        if self.criterion is not None:
            rec = self.criterion(self.reconstruct(out), target)
        else:
            rec = reconstruction_loss(out["logits"], target, self.config)
        return rec, {"reconstruction": rec}

    def fused_training_step(self, max_rows: int):
        """A hand-written forward and backward pass, ``step(x, target) -> (total, terms, code)`` as ``loss``
        and ``forward`` would give them, leaving the gradients in ``p.grad``; or None, and the loop
        differentiates ``loss`` with autograd. Batches have at most ``max_rows`` rows (models/dense_step.py)."""
        return None

    def per_sample_error(self, out: dict, target: torch.Tensor) -> torch.Tensor:
        """Mean squared reconstruction error of each sample, ``(batch,)``. Scoring's last use of ``out``:
        the difference is formed in the reconstruction's memory (a linear output's: the logits')."""
        diff = self.reconstruct(out).sub_(target).flatten(1)  # (batch, features)
        return torch.linalg.vector_norm(diff, dim=1).square_() / diff.shape[1]
