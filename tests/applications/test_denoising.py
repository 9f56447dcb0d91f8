import numpy as np
import pytest

from aekit import AutoEncoder
from aekit.applications.denoising import add_noise, denoise, denoising_scores, psnr, ssim
from aekit.exceptions import DataError


def naive_ssim_at(x, y, i, j, data_range=1.0):
    """SSIM at pixel (i, j) straight from Wang et al.: an explicit normalised 11x11 Gaussian window."""
    r = np.arange(-5, 6)
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * 1.5 ** 2))
    w = g / g.sum()
    px, py = x[i - 5:i + 6, j - 5:j + 6], y[i - 5:i + 6, j - 5:j + 6]
    mx, my = (w * px).sum(), (w * py).sum()
    vx, vy = (w * (px - mx) ** 2).sum(), (w * (py - my) ** 2).sum()
    cxy = (w * (px - mx) * (py - my)).sum()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    return ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))


def test_ssim_matches_the_definition_on_a_12x12_image():
    rng = np.random.default_rng(0)
    x = rng.random((12, 12))
    y = np.clip(x + 0.2 * rng.standard_normal((12, 12)), 0, 1)
    # on 12x12 only the 2x2 centre pixels have their whole window inside: SSIM is their mean
    expected = np.mean([naive_ssim_at(x, y, i, j) for i in (5, 6) for j in (5, 6)])
    assert ssim(x[None], y[None])[0] == pytest.approx(expected, rel=1e-9)


def test_ssim_properties():
    rng = np.random.default_rng(1)
    x = rng.random((3, 28, 28))
    assert np.allclose(ssim(x, x), 1.0)
    light, heavy = add_noise(x, 0.1, random_state=0), add_noise(x, 0.5, random_state=0)
    np.testing.assert_allclose(ssim(x, light), ssim(light, x))  # symmetric
    assert np.all(ssim(x, light) > ssim(x, heavy))
    assert ssim(x[:, :8, :8], light[:, :8, :8]).shape == (3,)  # smaller than the window: whole-image mean


def test_psnr():
    x = np.zeros((2, 4, 4))
    y = x + 0.1
    np.testing.assert_allclose(psnr(x, y), 20.0)
    assert np.isinf(psnr(x, x)).all()
    with pytest.raises(DataError, match=r"the images have shape \(2, 3, 3\), but the clean ones \(2, 4, 4\)"):
        psnr(x, np.zeros((2, 3, 3)))


def test_denoise_keeps_the_shape_and_helps(small_digits):
    X = small_digits[0]
    ae = AutoEncoder(latent_dim=16, hidden=(64,), noise="gaussian", noise_factor=0.3, epochs=40, batch_size=32,
                     random_state=0).fit(X)
    clean = X[:20].reshape(-1, 8, 8)
    noisy = add_noise(clean, 0.3, random_state=1)
    out = denoise(ae, noisy)
    assert out.shape == clean.shape
    scores = denoising_scores(noisy, out, clean)
    assert scores["psnr_denoised"] > scores["psnr_noisy"]
    with pytest.raises(DataError, match=r"the images have shape \(7, 7\), but the model takes samples of shape \(64,\)"):
        denoise(ae, np.zeros((2, 7, 7)))
