"""The one training loop: fast paths give the generic results, batches, threads, callbacks."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from aekit import AutoEncoder
from aekit.models import base
from aekit.models.dense import DenseAutoencoder
from aekit.models.dense_step import DenseStep
from aekit.training import Callback, TrainConfig, Trainer
from aekit.training.optim import Adam
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


@pytest.fixture
def autograd_only(monkeypatch):
    """Train through autograd with torch's own BCE: the generic path the fast ones must reproduce."""
    monkeypatch.setattr(DenseAutoencoder, "fused_training_step", lambda self, max_rows: None)
    monkeypatch.setattr(base, "bce_with_logits", F.binary_cross_entropy_with_logits)


@pytest.fixture
def dense_step_calls(monkeypatch):
    """How many batches went through the hand-written dense step."""
    calls = []
    original = DenseStep.__call__

    def counted(self, x, target):
        calls.append(x.shape[0])
        return original(self, x, target)

    monkeypatch.setattr(DenseStep, "__call__", counted)
    return calls


@pytest.mark.parametrize("params", [
    dict(hidden=(), latent_dim=8, latent_activation="relu"),  # the tutorial model
    dict(hidden=(32, 16), latent_dim=4),  # deep, linear code
    dict(hidden=(16,), latent_dim=4, output_activation="linear", loss="mse", scaling="standard"),
    dict(hidden=(16,), latent_dim=4, noise="gaussian", noise_factor=0.3),  # denoising
], ids=["tutorial", "deep", "mse", "denoising"])
def test_the_hand_written_dense_step_gives_autograds_loss_curve(params, small_digits, dense_step_calls,
                                                                 request):
    X, _ = small_digits
    settings = dict(epochs=5, batch_size=48, random_state=0, device="cpu", validation_split=0.2, **params)
    fast = AutoEncoder(**settings).fit(X)
    assert len(dense_step_calls) == 5 * 4 and dense_step_calls[-1] == 160 - 3 * 48  # the short last batch too
    request.getfixturevalue("autograd_only")
    generic = AutoEncoder(**settings).fit(X)
    assert len(dense_step_calls) == 20  # the second fit did not use it
    for key in ("loss", "val_loss", "code_activation"):
        np.testing.assert_allclose(fast.history_[key], generic.history_[key], rtol=1e-4, err_msg=key)
    np.testing.assert_allclose(fast.predict(X), generic.predict(X), atol=1e-4)


@pytest.mark.parametrize("params", [dict(batch_norm=True), dict(dropout=0.2), dict(activation="tanh"),
                                    dict(latent_activation="sigmoid"), dict(activity_l1=1e-4),
                                    dict(sparsity_weight=0.1)])
def test_models_the_dense_step_does_not_cover_train_through_autograd(params, small_digits, dense_step_calls):
    X, _ = small_digits
    est = AutoEncoder(hidden=(16,), latent_dim=4, epochs=2, random_state=0, device="cpu", **params).fit(X)
    assert dense_step_calls == [] and np.isfinite(est.history_["loss"]).all()


@pytest.mark.parametrize("decoupled, weight_decay", [(False, 0.0), (False, 0.01), (True, 0.01)])
@pytest.mark.parametrize("kernel", ["fused", "foreach"])
def test_adam_matches_torch_optim(decoupled, weight_decay, kernel):
    g = torch.Generator().manual_seed(0)
    ours_params = [torch.randn(5, 3, generator=g), torch.randn(3, generator=g)]
    ref_params = [p.clone().requires_grad_() for p in ours_params]
    ours_params = [p.requires_grad_() for p in ours_params]
    ours = Adam(ours_params, lr=0.01, weight_decay=weight_decay, decoupled=decoupled)
    if kernel == "foreach":
        ours._fused = None
    else:
        assert ours._fused is not None  # torch 2.13 has the CPU kernel
    ref = (torch.optim.AdamW if decoupled else torch.optim.Adam)(ref_params, lr=0.01, weight_decay=weight_decay)
    for _ in range(6):
        grads = [torch.randn(p.shape, generator=g) for p in ours_params]
        for p, q, gr in zip(ours_params, ref_params, grads):
            p.grad, q.grad = gr.clone(), gr.clone()
        ours.step()
        ref.step()
    for p, q in zip(ours_params, ref_params):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


def test_adam_skips_parameters_without_gradients():
    a, b = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    opt = Adam([a, b], lr=0.1)
    a.grad = torch.ones(2)
    opt.step()
    assert a.detach().tolist() == pytest.approx([0.9, 0.9]) and b.detach().tolist() == [1.0, 1.0]
    assert [float(s) for s in opt.steps] == [1.0, 0.0]


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


def test_conv_and_lstm_steps_are_counted_by_their_arithmetic_not_their_weights():
    # keras-io's conv autoencoder has the weights of a tiny dense model but reuses them at every pixel:
    # it must keep torch's threads (one thread made it 1.5x slower than a plain PyTorch loop)
    from aekit.models import create_model

    conv = create_model("conv", input_shape=(1, 28, 28), filters=(32, 32), downsample="pool",
                        upsample="transpose", bottleneck="conv")
    weights = sum(p.numel() for p in conv.parameters())
    assert 3 * 128 * weights < SINGLE_THREAD_BELOW < step_flops(conv, 128)
    lstm = create_model("lstm", input_shape=(28, 28), hidden=(64,), latent_dim=32)
    assert step_flops(lstm, 128) > 20 * 3 * 128 * sum(p.numel() for p in lstm.parameters())
    assert conv.training  # the count runs the model in eval mode and restores it


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


@pytest.mark.parametrize("fused", [True, False])
def test_on_batch_end_after_every_optimizer_step(small_digits, fused):
    from aekit.models import create_model
    from aekit.training import Callback

    class Steps(Callback):
        def __init__(self):
            self.calls = []

        def on_batch_end(self, batch, trainer, model):
            self.calls.append((batch, trainer.steps_per_epoch))

    X, _ = small_digits
    seen = Steps()
    model = create_model("dense", input_shape=(64,), latent_dim=2, hidden=(8,))
    Trainer(TrainConfig(epochs=2, batch_size=64, fused_step=fused), callbacks=[seen]).fit(model, torch.from_numpy(X))
    per_epoch = -(-len(X) // 64)
    assert seen.calls == [(b, per_epoch) for b in range(per_epoch)] * 2


def test_progress_lines_inside_a_long_epoch(small_digits):
    import io

    from aekit.models import create_model
    from aekit.training import ProgressBar

    X, _ = small_digits
    stream = io.StringIO()
    model = create_model("dense", input_shape=(64,), latent_dim=2, hidden=(8,))
    Trainer(TrainConfig(epochs=1, batch_size=8), callbacks=[ProgressBar(stream=stream, interval=0.0)]).fit(
        model, torch.from_numpy(X))
    lines = stream.getvalue().splitlines()
    n = -(-len(X) // 8)
    assert lines[0] == "epoch 1/1  batch 1/%d  " % n + lines[0].split("  ")[-1] and lines[-1].startswith("epoch 1/1  loss=")
    assert len(lines) == n  # one per batch but the last (its epoch line follows), at interval 0
