"""The one training loop, its settings and its callbacks."""
from .callbacks import Callback, LoggingCallback, ProgressBar
from .config import TrainConfig
from .trainer import Trainer

__all__ = ["Callback", "LoggingCallback", "ProgressBar", "TrainConfig", "Trainer"]
