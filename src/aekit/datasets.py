"""Public datasets API: ``aekit.datasets.load_digits()``, ``load_mnist()``, ..."""
from .data.datasets import *  # noqa: F401,F403
from .data.datasets import __all__  # noqa: F401
