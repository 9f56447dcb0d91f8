"""The autoencoder family through the estimator: sparse, denoising, variational, convolutional, sequence."""
import numpy as np
import pytest
import torch

from aekit import AutoEncoder, DataError
from aekit.data.corruption import MaskingNoise, SaltAndPepper, make_corruption
from aekit.models import create_model
from aekit.models.penalties import KLSparsity, L1Activity, make_penalties
from aekit.training import TrainConfig, Trainer
from aekit.training.callbacks import KLWarmup

FAST = dict(hidden=(16,), epochs=3, batch_size=64, random_state=0)


# -- sparse ------------------------------------------------------------------------------------------
def test_l1_activity_is_keras1_scaling_per_sample():
    code = torch.tensor([[1.0, -2.0], [3.0, 0.0]])  # batch of 2
    value = L1Activity(1e-4)({"code": code})
    assert value.item() == pytest.approx(1e-4 * 6.0 / 2)  # weight * sum|z| / batch_size


def test_kl_sparsity_matches_the_formula_and_is_zero_on_target():
    rho = 0.1
    code = torch.tensor([[0.2, 0.1], [0.4, 0.1]])  # unit means 0.3 and 0.1
    expected = rho * np.log(rho / 0.3) + (1 - rho) * np.log((1 - rho) / 0.7)  # unit 2 is on target: 0
    assert KLSparsity(rho, 3.0)({"code": code}).item() == pytest.approx(3.0 * expected, rel=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    (dict(activity_l1=-1.0), "activity_l1 must be >= 0"),
    (dict(sparsity_weight=-1.0), "sparsity_weight must be >= 0"),
    (dict(sparsity_weight=1.0, sparsity_target=1.5), r"sparsity_target .* must be in \(0, 1\)"),
])
def test_penalty_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_penalties(**kwargs)


def test_sparse_penalties_lower_code_activation_and_are_reported(small_digits):
    X, _ = small_digits
    common = dict(FAST, latent_dim=8, latent_activation="relu", epochs=6)
    plain = AutoEncoder(**common).fit(X)
    sparse = AutoEncoder(**common, activity_l1=1e-2).fit(X)
    assert "l1_activity" in sparse.history_
    assert sparse.history_["code_activation"][-1] < plain.history_["code_activation"][-1]
    kl = AutoEncoder(**dict(common, latent_activation="sigmoid"), sparsity_weight=0.1, sparsity_target=0.05).fit(X)
    assert kl.history_["kl_sparsity"][-1] < kl.history_["kl_sparsity"][0]


# -- denoising ---------------------------------------------------------------------------------------
def test_masking_zeroes_about_the_fraction_asked():
    x = torch.ones(200, 50)
    noisy = MaskingNoise(0.3)(x, torch.Generator().manual_seed(0))
    assert set(noisy.unique().tolist()) <= {0.0, 1.0}
    assert (noisy == 0).float().mean().item() == pytest.approx(0.3, abs=0.02)


def test_salt_and_pepper_sets_the_ends_of_the_range():
    x = torch.full((200, 50), 0.5)
    noisy = SaltAndPepper(0.2)(x, torch.Generator().manual_seed(0))
    assert set(noisy.unique().tolist()) == {0.0, 0.5, 1.0}
    assert (noisy != 0.5).float().mean().item() == pytest.approx(0.2, abs=0.02)
    assert (noisy == 1.0).float().mean().item() == pytest.approx(0.1, abs=0.02)


def test_gaussian_noise_is_clipped_to_the_data_range():
    noisy = make_corruption("gaussian", 0.5, (0.0, 1.0))(torch.full((100, 20), 0.5), torch.Generator())
    assert noisy.min() >= 0 and noisy.max() <= 1 and noisy.std() > 0.3


@pytest.mark.parametrize("noise, factor, match", [
    ("masking", 1.5, r"fraction of elements corrupted, a number in \[0, 1\]"),
    ("salt_and_pepper", -0.1, r"fraction of elements corrupted"),
    ("speckle", 0.1, "noise must be None or one of"),
])
def test_corruption_errors(noise, factor, match):
    with pytest.raises(ValueError, match=match):
        make_corruption(noise, factor, (0.0, 1.0))


@pytest.mark.parametrize("noise", ["gaussian", "masking", "salt_and_pepper"])
def test_denoising_estimator_trains_on_each_noise(small_digits, noise):
    X, _ = small_digits
    est = AutoEncoder(**FAST, noise=noise, noise_factor=0.2).fit(X)
    assert np.isfinite(est.history_["loss"]).all()


# -- variational -------------------------------------------------------------------------------------
def vae_loss_parts(beta):
    torch.manual_seed(0)
    model = create_model("vae", input_shape=(64,), latent_dim=2, hidden=(16,), beta=beta)
    x = torch.rand(8, 64)
    torch.manual_seed(1)  # the same eps for every beta
    total, terms = model.loss(model(x), x)
    return total.item(), terms["reconstruction"].item(), terms["kl"].item()


def test_kl_term_is_on_and_beta_scales_it():
    total1, rec1, kl1 = vae_loss_parts(1.0)
    total4, rec4, kl4 = vae_loss_parts(4.0)
    assert kl1 > 0
    assert (rec1, kl1) == (rec4, kl4)
    assert total1 == pytest.approx(rec1 + kl1)
    assert total4 == pytest.approx(rec4 + 4.0 * kl4)
    total0, rec0, _ = vae_loss_parts(0.0)
    assert total0 == pytest.approx(rec0)


def test_vae_history_reports_reconstruction_and_kl_summed_per_sample(small_digits):
    X, _ = small_digits
    est = AutoEncoder(kind="vae", latent_dim=2, **FAST).fit(X)
    h = est.history_
    assert h["kl"][-1] > 0
    # sums over the 64 pixels of a sample: far above a per-pixel mean BCE (< 1)
    assert h["reconstruction"][-1] > 5
    np.testing.assert_allclose(h["loss"], np.add(h["reconstruction"], h["kl"]), rtol=1e-5)


def test_beta_warmup_starts_from_zero_and_ends_at_full_weight(small_digits):
    X, _ = small_digits
    est = AutoEncoder(kind="vae", latent_dim=2, beta_warmup=2, **FAST).fit(X)
    h = est.history_
    assert h["loss"][0] == pytest.approx(h["reconstruction"][0])  # epoch 1: KL weight 0
    assert h["loss"][1] == pytest.approx(h["reconstruction"][1] + 0.5 * h["kl"][1], rel=1e-5)
    assert h["loss"][2] == pytest.approx(h["reconstruction"][2] + h["kl"][2], rel=1e-5)
    assert est.model_.kl_scale == 1.0
    with pytest.raises(ValueError, match="beta_warmup is a number of epochs"):
        KLWarmup(-1)


def test_score_samples_is_the_negative_elbo(small_digits):
    X, _ = small_digits
    est = AutoEncoder(kind="vae", latent_dim=2, **FAST, device="cpu").fit(X)  # the model is called on CPU tensors
    x = torch.from_numpy(X[:5])
    model = est.model_.eval()
    with torch.no_grad():
        out = model(x)
        rec, kl = model._terms(out, x)
    np.testing.assert_allclose(est.score_samples(X[:5]), -(rec + kl).numpy(), rtol=1e-5)


def test_sample_and_interpolate(small_digits):
    X, _ = small_digits
    est = AutoEncoder(kind="vae", latent_dim=2, **FAST).fit(X)
    samples = est.sample(6, random_state=0)
    assert samples.shape == (6, 64)
    np.testing.assert_array_equal(samples, est.sample(6, random_state=0))
    path = est.interpolate(X[0], X[1], steps=5)
    assert path.shape == (5, 64)
    np.testing.assert_allclose(path[0], est.inverse_transform(est.transform(X[:1]))[0], rtol=1e-5)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        est.sample(0)
    with pytest.raises(ValueError, match="steps must be an integer >= 2"):
        est.interpolate(X[0], X[1], steps=1)
    with pytest.raises(ValueError, match="a and b must each be one sample"):
        est.interpolate(X[:2], X[1])


def test_sample_and_interpolate_refuse_non_variational_kinds(small_digits):
    X, _ = small_digits
    est = AutoEncoder(**FAST).fit(X)
    with pytest.raises(TypeError, match=r"sample\(\) needs a variational kind .* kind='dense'"):
        est.sample(3)
    with pytest.raises(TypeError, match=r"interpolate\(\) needs a variational kind"):
        est.interpolate(X[0], X[1])


@pytest.mark.parametrize("kwargs, match", [
    (dict(beta=-1.0), "beta .* must be >= 0"),
    (dict(bottleneck="conv"), "a convolutional VAE needs bottleneck='dense'"),
])
def test_conv_vae_config_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        create_model("conv_vae", input_shape=(8, 8), **kwargs)


def test_info_reports_sparsity_noise_and_code_activation(small_digits, tmp_path):
    from aekit.cli.info import describe
    from aekit.persistence import read_header

    X, _ = small_digits
    est = AutoEncoder(**dict(FAST, epochs=1), activity_l1=1e-4, noise="masking", noise_factor=0.2).fit(X)
    text = "\n".join(describe(read_header(est.save(tmp_path / "m.safetensors"))))
    assert "mean code activation" in text
    assert "L1 activity penalty 0.0001 (sparse); masking noise 0.2 (denoising)" in text
