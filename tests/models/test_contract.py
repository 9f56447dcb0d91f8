"""The contract every registered model keeps: shapes, a finite loss that falls, identical outputs after a round trip.

Runs over ``aekit.models.list_models()``, so a newly registered model is checked without touching this file.
"""
import numpy as np
import pytest
import torch
from torch import nn

import aekit
from aekit.models import list_models, model_class
from aekit.models.custom import custom_model
from aekit.training import TrainConfig, Trainer

LATENT = 3


class OwnEncoder(nn.Module):
    """The 'custom' kind wraps a user's modules: these two stand in for them."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, LATENT))

    def forward(self, x):
        return self.net(x)


class OwnDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(LATENT, 8), nn.ReLU(), nn.Linear(8, 64))

    def forward(self, z):
        return self.net(z)


def own_modules(kind) -> dict:
    """The estimator parameters that build ``kind``: the user's modules for 'custom', none otherwise."""
    return dict(encoder=OwnEncoder(), decoder=OwnDecoder()) if kind == "custom" else {}


def sample_shape(cls) -> tuple:
    """A small sample shape the model accepts: a vector, a one-channel 8x8 image, or a (T, F) window."""
    if 1 in cls.sample_ranks:
        return (64,)
    if 3 in cls.sample_ranks:
        return (1, 8, 8)
    return (8, 3)


def tiny_data(shape, n=32) -> torch.Tensor:
    """Seeded data in [0, 1] with structure to learn (smooth in every direction, not noise)."""
    gen = torch.Generator().manual_seed(0)
    base = torch.rand((n, 1) + (1,) * (len(shape) - 1), generator=gen)
    ramp = torch.linspace(0, 1, int(np.prod(shape))).reshape(shape)
    return (0.5 * base + 0.5 * ramp * torch.rand((n,) + (1,) * len(shape), generator=gen)).float()


def build(kind):
    cls = model_class(kind)
    torch.manual_seed(0)
    if kind == "custom":
        return custom_model(**own_modules(kind), input_shape=sample_shape(cls), output_activation="sigmoid", loss="bce")
    return cls(cls.Config(input_shape=sample_shape(cls), latent_dim=LATENT))


@pytest.mark.parametrize("kind", list_models())
def test_output_shapes(kind):
    model = build(kind).eval()
    shape = sample_shape(type(model))
    x = tiny_data(shape, n=5)
    out = model(x)
    assert out["logits"].shape == x.shape
    assert model.reconstruct(out).shape == x.shape
    code = model.encode(x)
    assert code.shape == (5, model.config.latent_dim)
    assert model.decode(code).shape == x.shape
    assert model.per_sample_error(out, x).shape == (5,)


@pytest.mark.parametrize("kind", list_models())
def test_loss_is_finite_named_and_falls(kind):
    model = build(kind)
    x = tiny_data(sample_shape(type(model)))
    total, terms = model.loss(model(x), x)
    assert total.ndim == 0 and torch.isfinite(total)
    assert "reconstruction" in terms and all(torch.isfinite(v) for v in terms.values())
    history = Trainer(TrainConfig(epochs=8, batch_size=32, learning_rate=1e-2, seed=0)).fit(model, x)
    assert history["loss"][-1] < history["loss"][0]


@pytest.mark.parametrize("kind", list_models())
def test_save_load_gives_identical_outputs(kind, tmp_path):
    cls = model_class(kind)
    shape = sample_shape(cls)
    X = tiny_data(shape).numpy()
    est = aekit.AutoEncoder(kind=kind, latent_dim=LATENT, hidden=(8,), epochs=2, batch_size=16, random_state=0,
                               device="cpu", **own_modules(kind))  # bit-identical on one device; across devices: tests/training/test_gpu.py
    est.fit(X)
    path = est.save(tmp_path / "model.safetensors")
    loaded = aekit.load(path, trust_classes=True)
    assert loaded.model_.kind == kind
    assert loaded.model_.config == est.model_.config  # the input shape travels in the file
    np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    np.testing.assert_array_equal(loaded.score_samples(X), est.score_samples(X))
