"""Denoising images with a fitted autoencoder, and the two measures of how well it worked: PSNR and SSIM.

SSIM is Wang, Bovik, Sheikh and Simoncelli (2004), "Image quality assessment: from error visibility to
structural similarity", with their settings: a Gaussian window of sigma 1.5 (11 x 11), K1 = 0.01,
K2 = 0.03, population (not sample) covariances, and the mean of the SSIM map over the pixels whose window
lies inside the image (as scikit-image's ``structural_similarity(..., gaussian_weights=True,
use_sample_covariance=False)``). Images smaller than the window are averaged over every pixel instead.
"""
from __future__ import annotations

import numpy as np

from ..exceptions import DataError

__all__ = ["add_noise", "denoise", "denoising_scores", "psnr", "ssim"]

SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5  # window radius int(3.5 * 1.5 + 0.5) = 5, an 11 x 11 window
SSIM_K1, SSIM_K2 = 0.01, 0.03


def _pair(reference, test, name: str) -> tuple[np.ndarray, np.ndarray]:
    ref = np.asarray(reference, dtype=np.float64)
    out = np.asarray(test, dtype=np.float64)
    if ref.shape != out.shape:
        raise DataError(f"{name}: the images have shape {out.shape}, but the clean ones {ref.shape}; "
                        "give one clean image per image, of the same size")
    return ref, out


def psnr(reference, test, data_range: float = 1.0) -> np.ndarray:
    """Peak signal-to-noise ratio in dB of each image, ``10 log10(data_range**2 / MSE)``; inf when identical.

    ``reference`` and ``test`` are ``(n, height, width)`` (or ``(n, n_features)``) arrays.
    """
    ref, out = _pair(reference, test, "psnr")
    mse = np.square(ref - out).reshape(len(ref), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(float(data_range) ** 2 / mse)


def ssim(reference, test, data_range: float = 1.0) -> np.ndarray:
    """Structural similarity of each image pair, ``(n,)``, in [-1, 1]; 1 for identical images.

    Parameters
    ----------
    reference, test : array-like of shape (n, height, width)
    data_range : float, default=1.0
        The range of pixel values (1 for images in [0, 1], 255 for 8-bit).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((2, 16, 16))
    >>> ssim(x, x).tolist()
    [1.0, 1.0]
    """
    from scipy.ndimage import gaussian_filter

    ref, out = _pair(reference, test, "ssim")
    if ref.ndim != 3:
        raise DataError(f"ssim takes images of shape (n, height, width), got an array of shape {ref.shape}")
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2

    def blur(a):  # each image on its own: sigma 0 along the sample axis
        return gaussian_filter(a, sigma=(0, SSIM_SIGMA, SSIM_SIGMA), truncate=SSIM_TRUNCATE, mode="reflect")

    mu_x, mu_y = blur(ref), blur(out)
    var_x = blur(ref * ref) - mu_x ** 2
    var_y = blur(out * out) - mu_y ** 2
    cov = blur(ref * out) - mu_x * mu_y
    s_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    pad = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)
    if min(ref.shape[1:]) > 2 * pad:  # only the pixels whose window lies inside the image
        s_map = s_map[:, pad:-pad, pad:-pad]
    return s_map.reshape(len(s_map), -1).mean(axis=1)


def add_noise(images, factor: float = 0.5, random_state=None) -> np.ndarray:
    """Gaussian noise of standard deviation ``factor``, clipped to [0, 1] (the Keras denoising tutorial's)."""
    images = np.asarray(images, dtype=np.float32)
    rng = np.random.default_rng(random_state)
    return np.clip(images + factor * rng.standard_normal(images.shape, dtype=np.float32), 0.0, 1.0)


def denoise(estimator, images) -> np.ndarray:
    """Pass ``images`` ``(n, height, width)`` through a fitted autoencoder; return them in the same shape.

    Dense models take each image flattened; convolutional ones take it in the shape they were fitted on.
    """
    images = np.asarray(images, dtype=np.float32)
    shape = tuple(estimator.input_shape_)
    size = int(np.prod(shape))
    if images.ndim < 2 or int(np.prod(images.shape[1:])) != size:
        raise DataError(f"the images have shape {images.shape[1:]}, but the model takes samples of shape {shape} "
                        f"({size} values); give images of the size the model was trained on")
    out = estimator.predict(images.reshape((len(images),) + shape))
    return np.asarray(out, dtype=np.float32).reshape(images.shape)


def denoising_scores(noisy, denoised, clean, data_range: float = 1.0) -> dict:
    """Mean PSNR (dB) and SSIM of the noisy and of the denoised images against the clean ones."""
    return {
        "psnr_noisy": float(np.mean(psnr(clean, noisy, data_range))),
        "psnr_denoised": float(np.mean(psnr(clean, denoised, data_range))),
        "ssim_noisy": float(np.mean(ssim(clean, noisy, data_range))),
        "ssim_denoised": float(np.mean(ssim(clean, denoised, data_range))),
    }
