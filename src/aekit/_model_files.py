"""How an ``AutoEncoder`` becomes a model file and comes back (the file format is in ``persistence``)."""
from __future__ import annotations

import copy

import numpy as np

import torch

from . import persistence
from ._params import validate_params
from .exceptions import ModelFileError
from .data.scaling import Scaler
from .models import model_class
from .models.custom import CustomAutoencoder, check_rebuildable, rebuild_module

#: estimator parameters that only exist while fitting and never go into a model file
_DATA_PARAMS = ("validation_data",)
#: parameters that JSON turns into lists and the estimator takes as tuples
_TUPLE_PARAMS = ("hidden", "decoder_hidden", "filters")
#: parameters that may hold Python objects, and what a model file stores instead (the objects only shape
#: training; a custom encoder / decoder is in the model's config by import path)
_OBJECT_PARAMS = {"loss": "auto", "optimizer": "adam", "callbacks": None, "encoder": None, "decoder": None}


class ModelFileMixin:
    """``save`` / ``_from_bundle`` for the estimator: weights and scaler arrays as tensors, the rest JSON."""

    def save(self, path, overwrite: bool = False):
        """Write the fitted model to ``path`` (safetensors + JSON header; atomic; no pickle)."""
        self._check_fitted()
        persistence.save_bundle(path, self._bundle_tensors(), self._bundle_config(), overwrite=overwrite)
        return path

    def _bundle_tensors(self) -> dict:
        """The weights (``model.*``) and the scaler's arrays (``scaler.*``), as a model file stores them."""
        tensors = {f"model.{k}": v for k, v in self.model_.state_dict().items()}
        tensors.update(self.scaler_.state())
        return tensors

    def _bundle_config(self) -> dict:
        params = {k: v for k, v in self.get_params(deep=False).items() if k not in _DATA_PARAMS}
        params.update({k: default for k, default in _OBJECT_PARAMS.items()
                       if k in params and (params[k] is None or not isinstance(params[k], str))})
        if isinstance(self.model_, CustomAutoencoder):
            check_rebuildable(self.model_.config.encoder_class, "encoder")
            check_rebuildable(self.model_.config.decoder_class, "decoder")
        if not (params["random_state"] is None or isinstance(params["random_state"], int)):
            params["random_state"] = None
        return {
            "class": type(self).__name__,
            "params": params,
            "model": {"kind": self.model_.kind, "config": self.model_.config.to_dict()},
            "scaling": self.scaler_.kind,
            "input_shape": list(self.input_shape_),
            "feature_names": None if not hasattr(self, "feature_names_in_") else list(self.feature_names_in_),
            "history": self.history_,
        }

    @classmethod
    def _from_bundle(cls, tensors: dict, config: dict):
        params = {k: (tuple(v) if k in _TUPLE_PARAMS and isinstance(v, list) else v)
                  for k, v in config["params"].items()}
        est = cls(**params)
        validate_params(est)  # a stored parameter is checked as fit checks it
        est._restore(tensors, config)
        return est

    def _restore(self, tensors: dict, config: dict) -> None:
        mcls = model_class(config["model"]["kind"])
        prefix = "model."
        weights = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        if mcls is CustomAutoencoder:  # the user's modules, built as they are (load_state_dict checks the shapes)
            model = _rebuild_custom(config["model"]["config"])
        else:
            model_config = mcls.Config(**config["model"]["config"])
            _check_weight_shapes(mcls, model_config, weights)  # before allocating what the header declares
            model = mcls(model_config)
        model.load_state_dict(weights)
        model.eval()
        self.model_ = model
        self.scaler_ = Scaler.from_state(config["scaling"], tensors)
        self.input_shape_ = tuple(config["input_shape"])
        _check_scaler_shape(self.scaler_, self.input_shape_)
        self.n_features_in_ = int(np.prod(self.input_shape_))
        if config.get("feature_names"):
            self.feature_names_in_ = np.asarray(config["feature_names"], dtype=object)
        self.history_ = config.get("history", {})
        self.device_ = "cpu"
        if isinstance(model, CustomAutoencoder):  # refitting the loaded estimator starts from these modules
            self.encoder, self.decoder = copy.deepcopy(model.encoder), copy.deepcopy(model.decoder)


def _rebuild_custom(model_config: dict) -> CustomAutoencoder:
    """The user's modules, imported by path only when the ``load`` in progress trusts them."""
    config = CustomAutoencoder.Config(**model_config)
    for role in ("encoder", "decoder"):
        persistence.check_trusted(getattr(config, f"{role}_class")["class"], role)
    return CustomAutoencoder(config, rebuild_module(config.encoder_class), rebuild_module(config.decoder_class))


def _check_weight_shapes(mcls, model_config, weights: dict) -> None:
    """The model the header describes, built on torch's meta device (nothing allocated), must have exactly the
    tensors the file holds: a header asking for a huge model cannot make ``load`` allocate it."""
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in mcls(model_config).state_dict().items()}
    found = {k: tuple(v.shape) for k, v in weights.items()}
    if expected != found:
        missing = sorted(set(expected) - set(found))
        extra = sorted(set(found) - set(expected))
        wrong = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])
        detail = (f"missing {missing[0]!r}" if missing else f"unexpected {extra[0]!r}" if extra
                  else f"{wrong[0]!r} has shape {found[wrong[0]]}, the header's model needs {expected[wrong[0]]}")
        raise ModelFileError(f"the weights do not fit the model its header describes ({detail})")


def _check_scaler_shape(scaler, input_shape: tuple) -> None:
    for name in ("offset", "factor"):
        value = getattr(scaler, name)
        if value is not None and np.shape(value) != tuple(input_shape):
            raise ModelFileError(f"the scaler's {name} has shape {np.shape(value)}, but the model takes samples "
                                 f"of shape {tuple(input_shape)}")
