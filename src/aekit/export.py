"""A fitted ``AutoEncoder`` as a self-contained graph: ONNX (``torch.onnx``) or TorchScript.

The exported graph takes raw rows (the units ``fit`` saw; the model's scaler is folded in) and returns
three outputs, batch first:

- ``code``: what ``transform`` gives, ``(batch, latent_dim)``;
- ``reconstruction``: what ``predict`` gives, in the data's units;
- ``score``: what ``score_samples`` gives (minus the reconstruction error; minus the ELBO for VAEs).

The model's ``forward`` returns a dict, which TorchScript cannot script; :func:`export_module` wraps
its encoder and decoder in a module with tensor outputs, which scripts and exports.

Examples
--------
>>> import aekit, tempfile, os
>>> X = aekit.datasets.load_digits().X[:100]
>>> est = aekit.AutoEncoder(hidden=(8,), epochs=1, random_state=0).fit(X)
>>> code, recon, score = export_module(est)(torch.from_numpy(X[:3]))
>>> tuple(code.shape), tuple(recon.shape), tuple(score.shape)
((3, 2), (3, 64), (3,))
"""
from __future__ import annotations

import contextlib
import copy
import logging
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .exceptions import NotFittedError

logger = logging.getLogger(__name__)

OUTPUT_NAMES = ["code", "reconstruction", "score"]


class ScoringModule(nn.Module):
    """``x -> (code, reconstruction, score)`` of a fitted model, the scaler folded in; scriptable."""

    def __init__(self, model: nn.Module, offset: torch.Tensor, factor: torch.Tensor):
        super().__init__()
        self.encoder = copy.deepcopy(model.encoder).eval()
        self.decoder = copy.deepcopy(model.decoder).eval()
        self.sigmoid = model.config.output_activation == "sigmoid"
        self.bce = model.config.loss == "bce"
        self.register_buffer("offset", offset)
        self.register_buffer("factor", factor)
        # constant features (factor 0) come back as their training value, as Scaler.inverse_transform does
        self.register_buffer("inverse", torch.where(factor != 0, 1.0 / torch.where(factor != 0, factor, 1.0), 0.0))

    def outputs(self, xs: torch.Tensor, code: torch.Tensor, logits: torch.Tensor, error: torch.Tensor):
        rec = torch.sigmoid(logits) if self.sigmoid else logits
        return code, rec * self.inverse + self.offset, -error

    def forward(self, x: torch.Tensor):
        xs = (x - self.offset) * self.factor  # (batch, *sample_shape), scaled as in fit
        code = self.encoder(xs)  # (batch, latent_dim)
        logits = self.decoder(code)
        rec = torch.sigmoid(logits) if self.sigmoid else logits
        error = (rec - xs).flatten(1).pow(2).mean(dim=1)  # (batch,)
        return self.outputs(xs, code, logits, error)


class VariationalScoringModule(ScoringModule):
    """The same for a VAE: the code is the mean, the score minus the negative ELBO (decoded from the mean)."""

    def forward(self, x: torch.Tensor):
        xs = (x - self.offset) * self.factor
        mu, logvar = self.encoder.distribution(xs)  # (batch, latent_dim) each
        logits = self.decoder(mu)
        if self.bce:
            rec = F.binary_cross_entropy_with_logits(logits, xs, reduction="none")
        else:
            rec = ((torch.sigmoid(logits) if self.sigmoid else logits) - xs).pow(2)
        kl = -0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)
        return self.outputs(xs, mu, logits, rec.flatten(1).sum(dim=1) + kl)


def export_module(estimator) -> ScoringModule:
    """The scriptable module behind both exports, on the CPU, in eval mode."""
    model = getattr(estimator, "model_", None)
    if model is None:
        raise NotFittedError(f"This {type(estimator).__name__} instance is not fitted yet; fit or load a model "
                             "before exporting it")
    shape = tuple(estimator.input_shape_)
    scaler = estimator.scaler_
    if scaler.kind is None:
        offset, factor = torch.zeros(shape), torch.ones(shape)
    else:
        offset, factor = (torch.as_tensor(a, dtype=torch.float32).reshape(shape) for a in (scaler.offset, scaler.factor))
    cls = VariationalScoringModule if getattr(model, "variational", False) else ScoringModule
    module = cls(model.cpu(), offset, factor).eval()
    module.requires_grad_(False)  # inference only: outputs carry no autograd graph
    return module


@contextlib.contextmanager
def _quiet(name: str):
    """Silence a torch logger that warns about optional packages an export never needs (torchvision)."""
    log = logging.getLogger(name)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def sample_input(estimator, n: int = 2) -> torch.Tensor:
    return torch.zeros((n,) + tuple(estimator.input_shape_))


def to_onnx(estimator, path) -> Path:
    """Write ``estimator`` as an ONNX graph (input ``x``; outputs code, reconstruction, score; any batch size).

    Needs the ``onnx`` extra (``pip install 'aekit[onnx]'``): torch's exporter builds the graph with
    ``onnxscript``; ``onnxruntime`` runs it.
    """
    path = Path(path)
    module = export_module(estimator)
    batch = torch.export.Dim("batch", min=1)
    try:
        with warnings.catch_warnings(), _quiet("torch.onnx._internal.exporter._registration"):
            warnings.simplefilter("ignore", FutureWarning)  # torch.export's own deprecations: not the user's to fix
            program = torch.onnx.export(module, (sample_input(estimator),), dynamo=True, input_names=["x"],
                                        output_names=OUTPUT_NAMES, dynamic_shapes=({0: batch},), verbose=False)
    except ImportError as e:
        raise ImportError(f"ONNX export needs the onnx extra: pip install 'aekit[onnx]' ({e})") from e
    program.save(str(path))
    return path


def to_torchscript(estimator, path) -> Path:
    """Write ``estimator`` as TorchScript (``torch.jit.load(path)(x) -> (code, reconstruction, score)``).

    The wrapper is scripted where TorchScript compiles every layer (dense, VAE, LSTM kinds); models with
    layers it cannot compile (the convolutional kinds' padded convolutions, a user's module) are traced on
    a sample batch instead, which records the same operations for any batch size.
    """
    path = Path(path)
    module = export_module(estimator)
    try:
        scripted = torch.jit.script(module)
    except (RuntimeError, torch.jit.Error):  # a layer TorchScript cannot compile: trace it instead
        logger.info("TorchScript cannot compile the %s model; tracing it", estimator.model_.kind)
        scripted = torch.jit.trace(module, (sample_input(estimator, 3),))
    scripted.save(str(path))
    return path


def export(estimator, path, overwrite: bool = False) -> Path:
    """Write ``estimator`` to ``path``: ONNX for ``.onnx``, TorchScript for ``.pt`` / ``.ts`` (atomically).

    An AnomalyDetector exports its autoencoder: the graph's ``score`` is the autoencoder's
    ``score_samples``, not the detector's own score.
    """
    from ._atomic import atomic_path

    estimator = getattr(estimator, "autoencoder_", estimator)
    path = Path(path)
    writers = {".onnx": to_onnx, ".pt": to_torchscript, ".ts": to_torchscript}
    if path.suffix.lower() not in writers:
        raise ValueError(f"cannot export to {str(path)!r}: give a .onnx path (ONNX) or a .pt / .ts path (TorchScript)")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} already exists; pass overwrite=True (CLI: --force) to replace it")
    if not path.parent.exists():
        raise FileNotFoundError(f"cannot export to {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    with atomic_path(path) as tmp:
        writers[path.suffix.lower()](estimator, tmp)
    return path
