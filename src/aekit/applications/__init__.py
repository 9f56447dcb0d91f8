"""What autoencoders are used for, built on :class:`aekit.AutoEncoder`: dimensionality reduction,
anomaly detection, denoising and compression."""
from .reduction import compare_with_pca

__all__ = ["compare_with_pca"]
