"""What ``fit`` decides from the data: the validation split and the output layer and loss."""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..exceptions import DataError
from .scaling import Scaler
from .validation import check_array, check_n_features


def split_validation(Xs: np.ndarray, Ts: Optional[np.ndarray], validation_data, validation_split: float,
                     scaler: Scaler, sample_ranks: tuple, seed: int):
    """``(X_train, T_train, X_val, T_val)`` in the scaled space; targets are None when they are the inputs.

    Explicit ``validation_data`` (an array, or ``(X_val, Y_val)``) wins over ``validation_split``, a random
    fraction held out of the training data. A split that would leave no training sample is skipped.
    """
    if validation_data is not None:
        vd = validation_data
        x_val, t_val = (vd if isinstance(vd, tuple) and len(vd) == 2 else (vd, None))
        x_val = check_array(x_val, name="validation_data", sample_ranks=sample_ranks)
        check_n_features(x_val, Xs.shape[1:], name="validation_data")
        t_val = None if t_val is None else scaler.transform(
            check_array(t_val, name="validation target", sample_ranks=sample_ranks))
        return Xs, Ts, scaler.transform(x_val), t_val
    split = float(validation_split)
    if not 0.0 <= split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    n_val = int(round(split * len(Xs)))
    if n_val == 0 or n_val >= len(Xs):
        return Xs, Ts, None, None
    order = np.random.default_rng(seed).permutation(len(Xs))
    tr, va = order[n_val:], order[:n_val]
    pick = (lambda a, i: None if a is None else a[i])
    return Xs[tr], pick(Ts, tr), Xs[va], pick(Ts, va)


def resolve_output(output_activation: str, loss: str, target: np.ndarray) -> tuple[str, str]:
    """'auto' output: sigmoid when the scaled targets lie in [0, 1], else linear; 'auto' loss: bce for a
    sigmoid output, else mse. A sigmoid asked for explicitly must be able to reach the targets."""
    in_unit = bool(target.min() >= 0.0 and target.max() <= 1.0)
    out = output_activation
    if out == "auto":
        out = "sigmoid" if in_unit else "linear"
    elif out == "sigmoid" and not in_unit:
        raise DataError(
            f"the training data lie in [{target.min():.4g}, {target.max():.4g}] after scaling, but "
            "output_activation='sigmoid' only produces values in [0, 1]; use scaling='minmax' "
            "or output_activation='linear'"
        )
    if loss == "auto":
        loss = "bce" if out == "sigmoid" else "mse"
    return out, loss
