"""Turn user input into validated float32 arrays, with errors that say how to fix the input."""
from __future__ import annotations

import numbers
from typing import Optional, Sequence

import numpy as np

from ..exceptions import DataError


def feature_names_of(X) -> Optional[np.ndarray]:
    """Column names of a DataFrame-like input (as scikit-learn's ``feature_names_in_``), else None."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = np.asarray([str(c) for c in columns], dtype=object)
    return names


def _non_numeric_column(X) -> Optional[str]:
    columns = getattr(X, "columns", None)
    dtypes = getattr(X, "dtypes", None)
    if columns is None or dtypes is None:
        return None
    for name, dtype in zip(columns, dtypes):
        # numpy and pandas extension dtypes (Int64, string...) both say their kind
        if getattr(dtype, "kind", "O") not in "biuf":
            return str(name)
    return None


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def as_float32(arr: np.ndarray, what: str = "X") -> np.ndarray:
    """``arr`` as contiguous float32; finite values beyond float32's range (+-3.4e38) are refused (DataError)
    rather than turned into infinities with a RuntimeWarning."""
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 4 and arr.size:
        with np.errstate(invalid="ignore"):
            big = float(np.max(np.abs(arr), initial=0.0, where=np.isfinite(arr)))
        if big > _FLOAT32_MAX:
            raise DataError(f"{what} holds values up to {big:.3g}, beyond the float32 range (+-{_FLOAT32_MAX:.3g}) "
                            "that aekit computes in; rescale the data first")
    return np.ascontiguousarray(arr, dtype=np.float32)


def check_array(X, *, name: str = "X", sample_ranks: Sequence[int] = (1,), estimator: str = "AutoEncoder",
                allow_nan: bool = False) -> np.ndarray:
    """Validate ``X`` as a numeric array of shape ``(n_samples, *sample_shape)``; return float32.

    ``sample_ranks`` are the accepted ranks of one sample: ``(1,)`` for feature vectors, ``(2, 3)`` for images.
    """
    if X is None:
        raise DataError(f"{name} is None; expected an array-like of shape (n_samples, n_features)")
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(
            f"{estimator} does not take sparse input; convert {name} with {name}.toarray() first"
        )
    column = _non_numeric_column(X)
    if column is not None:
        raise DataError(
            f"column {column!r} of {name} is not numeric; aekit takes numeric columns only: drop or encode it"
        )
    try:
        arr = np.asarray(X)
    except Exception as e:  # ragged lists and the like
        raise DataError(f"{name} could not be read as an array: {e}") from e
    if arr.dtype == object or arr.dtype.kind in "USV":
        try:
            arr = arr.astype(np.float64)
        except TypeError as e:
            raise TypeError(f"{name} holds values that are not numbers ({e}); aekit takes numbers only") from e
        except ValueError as e:
            raise DataError(f"{name} holds non-numeric values ({e}); aekit takes numbers only") from e
    if arr.dtype.kind == "c":
        raise DataError(f"Complex data not supported: {name} is complex-valued; aekit takes real numbers only")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} has dtype {arr.dtype}, which is not numeric")
    expected = " or ".join(f"{r + 1}D" for r in sample_ranks)
    if arr.ndim - 1 not in sample_ranks:
        if arr.ndim == 0:
            hint = f"pass an array such as [[{arr.item()!r}]]"
        elif arr.ndim == 1:
            hint = ("Reshape your data either using array.reshape(-1, 1) if your data has a single feature "
                    "or array.reshape(1, -1) if it contains a single sample")
        elif 1 in sample_ranks:
            hint = ("flatten each sample with array.reshape(len(array), -1), "
                    "or use a convolutional model (kind='conv') for images")
        else:
            hint = "images are (n, height, width) or (n, channels, height, width)"
        raise DataError(f"Expected {expected} array for {name}, got {arr.ndim}D array instead; {hint}")
    if arr.shape[0] == 0:
        raise DataError(f"{name} is empty: found array with shape {arr.shape}; at least 1 sample is required")
    if arr.ndim > 1 and 0 in arr.shape[1:]:
        raise DataError(f"{name} has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    arr = as_float32(arr, name)
    # min and max propagate NaN and show infinities: two passes without a temporary boolean array
    if not allow_nan and not (np.isfinite(arr.min()) and np.isfinite(arr.max())):
        finite = np.isfinite(arr)
        if not finite.all():
            bad = np.argwhere(~finite)[0]
            kind = "NaN" if np.isnan(arr[tuple(bad)]) else "infinity"
            count = int((~finite).sum())
            raise DataError(
                f"{name} contains {kind} ({count} non-finite value{'s' if count > 1 else ''}, the first at "
                f"row {bad[0]}, column {tuple(bad[1:]) if len(bad) > 2 else bad[1] if len(bad) > 1 else 0}); "
                "remove or impute them first, e.g. with sklearn.impute.SimpleImputer"
            )
    return arr


def check_n_features(arr: np.ndarray, expected_shape: tuple, estimator: str = "AutoEncoder",
                     name: str = "X") -> None:
    """Raise if one sample's shape differs from the one seen in ``fit``."""
    got = tuple(arr.shape[1:])
    if got != tuple(expected_shape):
        if len(got) == 1 and len(expected_shape) == 1:
            raise DataError(
                f"{name} has {got[0]} features, but {estimator} is expecting {expected_shape[0]} features as input"
            )
        raise DataError(
            f"{name} has samples of shape {got}, but {estimator} was fitted on samples of shape {tuple(expected_shape)}"
        )


def check_random_state_int(random_state) -> int:
    """A seed for torch generators from None / int / numpy Generator / RandomState."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    raise TypeError(f"random_state must be None, an int or a numpy random generator, got {random_state!r}")
