"""Exceptions raised by aekit.

Every error a user can cause is one of these (or a plain ValueError/TypeError from validation), with a
message that says what was received, what was expected and how to fix it.
"""
from sklearn.exceptions import NotFittedError as _SkNotFittedError

__all__ = ["AekitError", "CheckpointError", "DataError", "InvalidParameterError", "ModelFileError", "NotFittedError",
           "TrainingError"]


class AekitError(Exception):
    """Base class of aekit's own errors."""


class DataError(AekitError, ValueError):
    """Input data that cannot be used as given (NaN, wrong shape, missing file...)."""


class ModelFileError(AekitError, ValueError):
    """A model file that is missing, corrupt, foreign, of a newer format, or would be overwritten."""


class NotFittedError(_SkNotFittedError, AekitError):
    """A fitted-only method was called before ``fit``."""


class TrainingError(AekitError, RuntimeError):
    """Training could not go on (a NaN loss, names the epoch and batch)."""


class CheckpointError(AekitError, ValueError):
    """A checkpoint folder that belongs to another run or to other data, or holds no readable checkpoint."""


class InvalidParameterError(AekitError, ValueError, TypeError):
    """An estimator parameter of the wrong type or out of range (scikit-learn's class of the same name)."""
