"""aekit: autoencoders for Python practitioners.

One scikit-learn estimator (:class:`AutoEncoder`) for every autoencoder the tutorials teach, one training
loop, model files without pickle, and a command line (``aekit --help``).
"""
__version__ = "0.1.0"

from . import datasets  # noqa: E402
from .estimator import AutoEncoder  # noqa: E402
from .applications.anomaly import AnomalyDetector  # noqa: E402
from .exceptions import AekitError, DataError, ModelFileError, NotFittedError, TrainingError  # noqa: E402
from .persistence import load  # noqa: E402

__all__ = [
    "AekitError",
    "AnomalyDetector",
    "AutoEncoder",
    "DataError",
    "ModelFileError",
    "NotFittedError",
    "TrainingError",
    "datasets",
    "load",
    "__version__",
]
