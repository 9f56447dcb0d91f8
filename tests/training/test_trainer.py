"""The one training loop: fast paths give the generic results, batches, threads, callbacks."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from aekit import AutoEncoder
from aekit.models import base
from aekit.training import Callback, TrainConfig, Trainer
from aekit.training.threads import SINGLE_THREAD_BELOW, step_flops
from aekit.training.trainer import batch_starts


@pytest.mark.parametrize("scale", [1.0, 30.0, 300.0])
def test_fused_bce_matches_torch_value_and_gradient(scale):
    g = torch.Generator().manual_seed(0)
    z = (torch.randn(64, 50, generator=g) * scale).requires_grad_()
    x = torch.rand(64, 50, generator=g)
    x[:, :10] = 0.0
    x[:, 10:20] = 1.0
    ours = base.bce_with_logits(z, x)
    (ours * 2).backward()
    grad_ours, z.grad = z.grad.clone(), None
    ref = F.binary_cross_entropy_with_logits(z, x)
    (ref * 2).backward()
    torch.testing.assert_close(ours, ref, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(grad_ours, z.grad, rtol=1e-5, atol=1e-9)


def test_fast_path_and_generic_path_give_the_same_loss_curve(small_digits, monkeypatch):
    X, _ = small_digits
    params = dict(latent_dim=8, hidden=(32,), epochs=5, batch_size=32, random_state=0)
    fast = AutoEncoder(**params).fit(X).history_["loss"]
    monkeypatch.setattr(base, "bce_with_logits", F.binary_cross_entropy_with_logits)
    generic = AutoEncoder(**params).fit(X).history_["loss"]
    np.testing.assert_allclose(fast, generic, rtol=1e-4)


@pytest.mark.parametrize("n, bs, expected", [
    (1, 256, [0, 1]), (10, 4, [0, 4, 8, 10]), (9, 4, [0, 4, 9]), (8, 4, [0, 4, 8]), (2, 1, [0, 1, 2]),
])
def test_batch_starts_never_drop_samples_nor_leave_one_alone(n, bs, expected):
    assert batch_starts(n, bs) == expected


def test_batch_norm_trains_when_the_last_batch_would_hold_one_sample(small_digits):
    X, _ = small_digits
    est = AutoEncoder(hidden=(8,), batch_norm=True, dropout=0.1, epochs=2, batch_size=33, random_state=0)
    est.fit(X[:34])  # 33 + 1
    assert np.isfinite(est.history_["loss"]).all()


def test_small_models_train_on_one_thread_and_restore_the_setting(small_digits):
    X, _ = small_digits
    seen = []

    class Spy(Callback):
        def on_epoch_end(self, epoch, logs, trainer, model):
            seen.append(torch.get_num_threads())

    from aekit.models import create_model

    model = create_model("dense", input_shape=(64,), latent_dim=2, hidden=(4,))
    assert step_flops(model, 32) < SINGLE_THREAD_BELOW
    before = torch.get_num_threads()
    Trainer(TrainConfig(epochs=2, batch_size=32), callbacks=[Spy()]).fit(model, torch.from_numpy(X))
    assert seen == [1, 1] and torch.get_num_threads() == before
    Trainer(TrainConfig(epochs=1, batch_size=32, num_threads=before), callbacks=[Spy()]).fit(model, torch.from_numpy(X))
    assert seen[-1] == before


def test_callbacks_see_every_epoch_and_can_stop(small_digits):
    X, _ = small_digits

    class StopAtTwo(Callback):
        def on_epoch_end(self, epoch, logs, trainer, model):
            assert "loss" in logs and "seconds" in logs
            if epoch == 1:
                trainer.stop_training = True

    from aekit.models import create_model

    model = create_model("dense", input_shape=(64,), latent_dim=2, hidden=(8,))
    history = Trainer(TrainConfig(epochs=10, batch_size=64), callbacks=[StopAtTwo()]).fit(model, torch.from_numpy(X))
    assert len(history["loss"]) == 2


def test_shape_mistakes_fail_before_training(small_digits):
    from aekit import DataError
    from aekit.models import create_model

    model = create_model("dense", input_shape=(10,), latent_dim=2, hidden=(8,))
    with pytest.raises(DataError, match="could not process input of shape"):
        Trainer(TrainConfig(epochs=1)).fit(model, torch.zeros(5, 64))


def test_progress_lines_when_not_a_terminal(small_digits):
    import io

    from aekit.training import ProgressBar
    from aekit.models import create_model

    X, _ = small_digits
    stream = io.StringIO()
    model = create_model("dense", input_shape=(64,), latent_dim=2, hidden=(8,))
    Trainer(TrainConfig(epochs=40, batch_size=64), callbacks=[ProgressBar(stream=stream)]).fit(
        model, torch.from_numpy(X), x_val=torch.from_numpy(X[:20]))
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and 2 <= len(lines) <= 21
    assert lines[-1].startswith("epoch 40/40") and "val_loss=" in lines[-1] and "eta" in lines[-1]
