"""Your own encoder and decoder, loss, optimizer and callbacks, through aekit's one training loop."""
import json

import numpy as np
import pytest
import torch
from torch import nn

import aekit
from aekit import AutoEncoder, ModelFileError
from aekit.persistence import read_header
from aekit.training import Callback

FAST = dict(epochs=3, batch_size=50, random_state=0)


class Encoder(nn.Module):
    def __init__(self, n_in=64, latent=3):
        super().__init__()
        self.n_in, self.latent = n_in, latent
        self.net = nn.Sequential(nn.Linear(n_in, 16), nn.Tanh(), nn.Linear(16, latent))

    def get_config(self):
        return {"n_in": self.n_in, "latent": self.latent}

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 64))

    def forward(self, z):
        return self.net(z)  # logits: aekit applies the output activation


class NeedsArguments(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.net = nn.Linear(64, width)

    def forward(self, x):
        return self.net(x)


@pytest.fixture
def fitted(small_digits, one_thread):
    X, _ = small_digits
    return AutoEncoder(encoder=Encoder(), decoder=Decoder(), learning_rate=1e-2, **FAST).fit(X), X


def test_own_modules_train_and_leave_yours_alone(small_digits, one_thread):
    X, _ = small_digits
    enc, dec = Encoder(), Decoder()
    before = {k: v.clone() for k, v in enc.state_dict().items()}
    est = AutoEncoder(encoder=enc, decoder=dec, learning_rate=1e-2, epochs=8, batch_size=50, random_state=0).fit(X)
    assert est.history_["loss"][-1] < 0.9 * est.history_["loss"][0]
    assert est.transform(X[:4]).shape == (4, 3)  # the code width is the encoder's
    assert est.model_.config.output_activation == "sigmoid"  # digits lie in [0, 1]
    assert all(torch.equal(before[k], v) for k, v in enc.state_dict().items())


def test_round_trip_needs_trust(fitted, tmp_path):
    est, X = fitted
    path = est.save(tmp_path / "own.safetensors")
    spec = read_header(path)["model"]["config"]["encoder_class"]
    assert spec == {"class": "test_custom_modules:Encoder", "kwargs": {"n_in": 64, "latent": 3}}
    with pytest.raises(ModelFileError, match=r"trust_classes=\['test_custom_modules'\]"):
        aekit.load(path)
    with pytest.raises(ModelFileError, match="user class 'test_custom_modules:Encoder'"):
        aekit.load(path, trust_classes=["some_other_package"])
    for trust in (True, ["test_custom_modules"], "test_custom_modules:Encoder test_custom_modules:Decoder".split()):
        loaded = aekit.load(path, trust_classes=trust)
        np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
        np.testing.assert_array_equal(loaded.score_samples(X), est.score_samples(X))
    assert isinstance(loaded.get_params()["encoder"], Encoder)  # refitting the loaded estimator works
    assert loaded.set_params(epochs=1).fit(X).history_["loss"]


def test_modules_that_cannot_be_rebuilt_are_refused_at_save(small_digits, tmp_path, one_thread):
    X, _ = small_digits

    class Local(Decoder):
        pass

    est = AutoEncoder(encoder=Encoder(), decoder=Local(), **FAST).fit(X)
    with pytest.raises(ValueError, match="defined inside a function"):
        est.save(tmp_path / "a.safetensors")
    est = AutoEncoder(encoder=NeedsArguments(3), decoder=Decoder(), **FAST).fit(X)
    with pytest.raises(ValueError, match=r"needs the arguments \['width'\].*get_config"):
        est.save(tmp_path / "b.safetensors")
    est = AutoEncoder(encoder=nn.Sequential(nn.Linear(64, 3)), decoder=Decoder(), **FAST).fit(X)
    with pytest.raises(ValueError, match="wrap it in your own nn.Module class"):
        est.save(tmp_path / "c.safetensors")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("params, error, match", [
    (dict(encoder=Encoder()), ValueError, "give both encoder= and decoder="),
    (dict(encoder="mlp", decoder=Decoder()), TypeError,
     "The 'encoder' parameter of AutoEncoder must be a torch.nn.Module or None. Got 'mlp' instead."),
    (dict(encoder=nn.Flatten(), decoder=Decoder()), ValueError, "CustomAutoencoder could not process input"),
    (dict(encoder=nn.Unflatten(1, (8, 8)), decoder=Decoder()), ValueError,
     r"code of shape \(batch, latent_dim\), got \(2, 8, 8\)"),
    (dict(encoder=NeedsArguments(3), decoder=Decoder(), loss=nn.L1Loss(), kind="vae"), None, None),
    (dict(kind="vae", loss=nn.L1Loss()), ValueError, "kind='vae' has its own ELBO"),
    (dict(optimizer=lambda p: "sgd"), TypeError, "must return a torch.optim.Optimizer"),
    (dict(callbacks=[print]), TypeError,
     r"The 'callbacks' parameter of AutoEncoder must be a list of aekit.training.Callback or None"),
])
def test_bad_modules_losses_optimizers_callbacks(small_digits, params, error, match, one_thread):
    X, _ = small_digits
    est = AutoEncoder(**{**FAST, "epochs": 1, **params})
    if error is None:  # own modules replace kind, so a callable loss is fine with them
        est.fit(X)
        return
    with pytest.raises(error, match=match):
        est.fit(X)


def test_callable_loss_is_what_training_minimises(small_digits, one_thread):
    X, _ = small_digits
    calls = []

    def l1(reconstruction, target):
        calls.append(tuple(reconstruction.shape))
        return (reconstruction - target).abs().mean()

    est = AutoEncoder(hidden=(8,), loss=l1, epochs=2, batch_size=50, random_state=0).fit(X)
    assert calls == [(50, 64)] * 8  # 4 batches x 2 epochs
    with torch.no_grad():
        x = torch.from_numpy(X)
        l1_after = float((est.model_.reconstruct(est.model_(x)) - x).abs().mean())
    assert l1_after == pytest.approx(est.history_["loss"][-1], rel=0.1)  # the history is the L1 loss
    assert est.get_params()["loss"] is l1


def test_optimizer_factory_is_used(small_digits, one_thread):
    X, _ = small_digits
    frozen = AutoEncoder(hidden=(8,), optimizer=lambda p: torch.optim.SGD(p, lr=0.0), **FAST).fit(X)
    assert np.ptp(frozen.history_["loss"]) < 1e-6  # lr 0: the weights never move
    moving = AutoEncoder(hidden=(8,), optimizer=lambda p: torch.optim.SGD(p, lr=0.5), **FAST).fit(X)
    assert moving.history_["loss"][-1] < frozen.history_["loss"][-1]


class Recorder(Callback):
    def __init__(self, stop_after=None):
        self.events, self.stop_after = [], stop_after

    def on_train_begin(self, trainer, model):
        self.events.append("begin")

    def on_epoch_begin(self, epoch, trainer, model):
        self.events.append(f"epoch{epoch}")

    def on_batch_end(self, batch, trainer, model):
        self.events.append(f"b{batch}")

    def on_epoch_end(self, epoch, logs, trainer, model):
        self.events.append(f"end{epoch}:{sorted(logs)}")
        if self.stop_after is not None and epoch + 1 >= self.stop_after:
            trainer.stop_training = True

    def on_train_end(self, history, trainer, model):
        self.events.append(f"done{len(history['loss'])}")


def test_callbacks_are_called_in_order(small_digits, one_thread):
    X, _ = small_digits
    rec, stopper = Recorder(), Recorder(stop_after=2)
    est = AutoEncoder(hidden=(8,), callbacks=[rec, stopper], validation_split=0.25, **FAST).fit(X)
    keys = sorted(["loss", "val_loss", "reconstruction", "val_reconstruction", "code_activation", "seconds"])
    epoch = lambda e: [f"epoch{e}", "b0", "b1", "b2", f"end{e}:{keys}"]  # noqa: E731  (150 rows / 50)
    assert rec.events == ["begin", *epoch(0), *epoch(1), "done2"]
    assert len(est.history_["loss"]) == 2  # the second callback stopped training after two epochs
    # the estimator keeps the callbacks it was given (clone copies them)
    assert est.get_params()["callbacks"] == [rec, stopper]
