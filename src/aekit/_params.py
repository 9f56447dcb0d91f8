"""Every estimator parameter checked in one place, before any data are read, in scikit-learn's wording.

``validate_params(est)`` runs at the top of ``AutoEncoder.fit`` and ``AnomalyDetector.fit`` and when a model
file is loaded, so a bad value fails in a second with one message such as
"The 'noise_factor' parameter of AutoEncoder must be a float in the range [0, inf). Got -1 instead."

Parameters that the chosen ``kind`` does not use (``filters`` for a dense model, ``beta`` for a
non-variational one, ``noise_factor`` without ``noise``...) are refused when they differ from their default,
instead of being ignored in silence.
"""
from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from .exceptions import InvalidParameterError

__all__ = ["check_param", "validate_params", "Integer", "Real", "Options"]


class Real:
    """A finite real number in an interval: ``closed`` is 'left', 'right', 'both' or 'neither'."""

    def __init__(self, low=None, high=None, closed="both"):
        self.low, self.high, self.closed = low, high, closed
        self.type_name = "a float"

    def _kind_ok(self, value) -> bool:
        return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))

    def accepts(self, value) -> bool:
        if not self._kind_ok(value) or not math.isfinite(float(value)):
            return False
        lo_ok = self.low is None or (value >= self.low if self.closed in ("left", "both") else value > self.low)
        hi_ok = self.high is None or (value <= self.high if self.closed in ("right", "both") else value < self.high)
        return lo_ok and hi_ok

    def __str__(self):
        left = "[" if self.closed in ("left", "both") and self.low is not None else "("
        right = "]" if self.closed in ("right", "both") and self.high is not None else ")"
        low = "-inf" if self.low is None else _number(self.low)
        high = "inf" if self.high is None else _number(self.high)
        return f"{self.type_name} in the range {left}{low}, {high}{right}"


def _number(x) -> str:
    return str(x) if isinstance(x, numbers.Integral) else f"{x:g}"


class Integer(Real):
    """An integer in ``[low, high]`` (both ends included when given)."""

    def __init__(self, low=None, high=None):
        super().__init__(low, high, "both")
        self.type_name = "an int"

    def _kind_ok(self, value) -> bool:
        return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


class Options:
    """One of a fixed set of strings."""

    def __init__(self, *values):
        self.values = tuple(values)

    def accepts(self, value) -> bool:
        return isinstance(value, str) and value in self.values

    def __str__(self):
        return "a str among {" + ", ".join(repr(v) for v in self.values) + "}"


class IntTuple:
    """A tuple (or list) of positive ints; ``empty`` says whether ``()`` is allowed."""

    def __init__(self, empty=True):
        self.empty = empty

    def accepts(self, value) -> bool:
        return (isinstance(value, (tuple, list)) and (self.empty or len(value) > 0)
                and all(Integer(1).accepts(v) for v in value))

    def __str__(self):
        return "a tuple of positive ints" + ("" if self.empty else " (at least one)")


class CallbackList:
    def __init__(self, base):
        self.base = base

    def accepts(self, value) -> bool:
        return isinstance(value, (list, tuple)) and all(isinstance(v, self.base) for v in value)

    def __str__(self):
        return f"a list of aekit.training.{self.base.__name__}"


class Instance:
    def __init__(self, *types, name=None):
        self.types, self.name = types, name

    def accepts(self, value) -> bool:
        return isinstance(value, self.types)

    def __str__(self):
        return self.name or " or ".join(f"an instance of {t.__name__!r}" for t in self.types)


class Callable:
    def __init__(self, name: str):
        self.name = name

    def accepts(self, value) -> bool:
        return callable(value) and not isinstance(value, (str, type(None)))

    def __str__(self):
        return self.name


NONE = Instance(type(None), name="None")
BOOL = Instance(bool, np.bool_, name="a bool")
SEED = (Integer(0, 2**32 - 1), Instance(np.random.RandomState, np.random.Generator,
                                        name="a numpy RandomState or Generator"), NONE)


def _describe(constraints) -> str:
    words = [str(c) for c in constraints]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def check_param(name: str, value, constraints, owner: str) -> None:
    """Raise InvalidParameterError unless ``value`` meets one of ``constraints`` (one or a tuple)."""
    constraints = constraints if isinstance(constraints, tuple) else (constraints,)
    if not any(c.accepts(value) for c in constraints):
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be {_describe(constraints)}. Got {value!r} instead.")


def _autoencoder_constraints() -> dict:
    from .data.corruption import NOISES
    from .models import list_models
    from .models.base import ACTIVATIONS
    from .models.conv import BOTTLENECKS, DOWNSAMPLES, UPSAMPLES
    from torch import nn

    from .training.callbacks import Callback
    from .training.config import OPTIMIZERS

    activations = Options(*sorted(ACTIVATIONS))
    return {
        "kind": Options(*list_models()), "latent_dim": Integer(1), "hidden": IntTuple(),
        "decoder_hidden": (IntTuple(), NONE), "activation": activations, "latent_activation": activations,
        "output_activation": Options("auto", "sigmoid", "linear"),
        "loss": (Options("auto", "bce", "mse"), Callable("a callable loss(reconstruction, target)")),
        "batch_norm": BOOL, "dropout": Real(0, 1, "left"), "filters": (IntTuple(empty=False), NONE),
        "kernel_size": (Integer(1), NONE), "downsample": (Options(*DOWNSAMPLES), NONE),
        "upsample": (Options(*UPSAMPLES), NONE), "bottleneck": (Options(*BOTTLENECKS), NONE),
        "beta": Real(0, None), "beta_warmup": Integer(0), "activity_l1": Real(0, None),
        "sparsity_target": Real(0, 1, "neither"), "sparsity_weight": Real(0, None),
        "noise": (Options(*NOISES), NONE), "noise_factor": Real(0, None), "epochs": (Integer(1), Options("auto")),
        "batch_size": Integer(1), "learning_rate": Real(0, None, "neither"),
        "optimizer": (Options(*OPTIMIZERS), Callable("a callable optimizer(params) -> torch.optim.Optimizer")),
        "weight_decay": Real(0, None), "validation_split": Real(0, 1, "left"),
        "early_stopping": (Integer(1), NONE), "scaling": (Options("auto", "minmax", "standard"), NONE),
        "random_state": SEED, "device": Instance(str, name="a str ('auto', 'cpu' or 'cuda')"),
        "verbose": (Integer(0), BOOL),
        "encoder": (Instance(nn.Module, name="a torch.nn.Module"), NONE),
        "decoder": (Instance(nn.Module, name="a torch.nn.Module"), NONE),
        "callbacks": (CallbackList(Callback), NONE),
    }


def _detector_constraints() -> dict:
    from .applications._error_model import SCORES
    from .estimator import AutoEncoder

    return {
        "autoencoder": (Instance(AutoEncoder, name="an aekit.AutoEncoder"), Options("ensemble"), NONE),
        "contamination": Real(0, 0.5, "right"), "alpha": (Real(0, 1, "neither"), NONE),
        "calibration_fraction": Real(0, 1, "left"), "anomaly_score": Options("auto", *SCORES), "random_state": SEED,
    }


#: estimator parameters that only some kinds use, beyond the fields of the kind's model config
_EXTRA_USES = {"beta_warmup": "beta"}  # beta_warmup ramps the KL term: it needs a kind with ``beta``


def _check_applies(est, owner: str) -> None:
    """Refuse a parameter set away from its default when ``est.kind`` (or ``noise``) does not use it."""
    from .models import list_models, model_class

    params = est.get_params(deep=False)
    defaults = type(est)().get_params(deep=False)
    fields = {kind: {f.name for f in dataclasses.fields(model_class(kind).Config)} for kind in list_models()}
    model_params = set().union(*fields.values()) | set(_EXTRA_USES)
    if params.get("noise") is None and not _same(params.get("noise_factor"), defaults.get("noise_factor")):
        raise InvalidParameterError(
            f"The 'noise_factor' parameter of {owner} only applies with noise set ('gaussian', 'masking' or "
            f"'salt_and_pepper'). Got noise_factor={params['noise_factor']!r} with noise=None.")
    if est.kind == "custom" or params.get("encoder") is not None or params.get("decoder") is not None:
        return  # the user's own modules replace the kind: its architecture parameters are documented as unused
    kind = est.kind
    for name in sorted(model_params & set(params)):
        needs = _EXTRA_USES.get(name, name)
        if needs in fields.get(kind, ()) or _same(params[name], defaults[name]):
            continue
        users = ", ".join(repr(k) for k in sorted(fields) if needs in fields[k])
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} does not apply to kind={kind!r} (it is used by kinds {users}). "
            f"Got {params[name]!r}; leave it at its default {defaults[name]!r} or choose one of those kinds.")


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return tuple(a) == tuple(b)
    return not isinstance(a, (list, tuple)) and not isinstance(b, (list, tuple)) and bool(a == b)


def validate_params(est) -> None:
    """Check every parameter of an AutoEncoder or AnomalyDetector; InvalidParameterError on the first bad one."""
    from .estimator import AutoEncoder

    owner = type(est).__name__
    constraints = _autoencoder_constraints() if isinstance(est, AutoEncoder) else _detector_constraints()
    params = est.get_params(deep=False)
    for name, rule in constraints.items():
        if name in params:
            check_param(name, params[name], rule, owner)
    if isinstance(est, AutoEncoder):
        _check_applies(est, owner)
    elif isinstance(est.autoencoder, AutoEncoder):
        validate_params(est.autoencoder)
