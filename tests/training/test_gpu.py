"""The same estimator on a CUDA device: runs only where one is present (CI has none; see docs/design.md)."""
import numpy as np
import pytest
import torch

import aekit
from aekit import AnomalyDetector, AutoEncoder

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_auto_device_trains_on_the_gpu_and_matches_the_cpu(small_digits):
    X, _ = small_digits
    params = dict(kind="dense", hidden=(32,), latent_dim=8, epochs=15, batch_size=32, random_state=0)
    gpu = AutoEncoder(**params).fit(X)  # device='auto'
    cpu = AutoEncoder(**params, device="cpu").fit(X)
    assert gpu.device_.startswith("cuda") and next(gpu.model_.parameters()).is_cuda
    # same initial weights; only the shuffling stream differs between devices
    assert gpu.history_["loss"][-1] < 0.8 * gpu.history_["loss"][0]
    assert gpu.history_["loss"][-1] == pytest.approx(cpu.history_["loss"][-1], rel=0.05)
    codes = gpu.transform(X)
    assert isinstance(codes, np.ndarray) and codes.shape == (len(X), 8)


def test_a_gpu_model_file_loads_on_the_cpu_with_the_same_outputs(small_digits, tmp_path):
    X, _ = small_digits
    est = AutoEncoder(kind="dense", latent_dim=4, epochs=3, random_state=0, device="cuda").fit(X)
    est.save(tmp_path / "m.aekit")
    back = aekit.load(tmp_path / "m.aekit")
    assert not next(back.model_.parameters()).is_cuda
    np.testing.assert_allclose(back.predict(X), est.predict(X), atol=1e-5)
    np.testing.assert_allclose(back.score_samples(X), est.score_samples(X), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["conv", "conv_vae"])
def test_convolutional_kinds_train_and_sample_on_the_gpu(kind, digits):
    X, _ = digits
    images = X[:256].reshape(-1, 8, 8)
    est = AutoEncoder(kind=kind, latent_dim=2, epochs=3, batch_size=64, random_state=0, device="cuda").fit(images)
    assert np.isfinite(est.history_["loss"]).all()
    assert est.predict(images).shape == images.shape
    if kind == "conv_vae":
        assert est.sample(5, random_state=0).shape == (5, 8, 8)


def test_denoising_and_anomaly_detection_on_the_gpu(small_digits):
    X, _ = small_digits
    est = AutoEncoder(kind="dense", latent_dim=8, epochs=3, noise="gaussian", noise_factor=0.3, random_state=0,
                      device="cuda").fit(X)
    assert np.isfinite(est.history_["loss"]).all()
    det = AnomalyDetector(AutoEncoder(latent_dim=4, epochs=3, device="cuda"), random_state=0).fit(X)
    assert det.predict(X).shape == (len(X),)
