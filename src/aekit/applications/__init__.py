"""What autoencoders are used for, built on :class:`aekit.AutoEncoder`: dimensionality reduction,
anomaly detection, denoising and compression."""
from .anomaly import AnomalyDetector, default_autoencoder
from .reduction import compare_with_pca

__all__ = ["AnomalyDetector", "compare_with_pca", "default_autoencoder"]
