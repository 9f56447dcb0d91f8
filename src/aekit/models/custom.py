"""A user's own encoder and decoder (any ``nn.Module`` pair), trained by the one loop like every model.

``AutoEncoder(encoder=MyEncoder(), decoder=MyDecoder())`` builds this model. The decoder returns logits:
aekit applies ``output_activation`` (sigmoid for data in [0, 1], else none), as for its own models.
A model file stores the weights (safetensors) and each module's class by import path, with the keyword
arguments its ``get_config()`` returns (``{}`` without one); the class is imported again only when the
user trusts it (``aekit.load(path, trust_classes=...)``). Nothing is pickled.
"""
from __future__ import annotations

import copy
import importlib
import inspect
from dataclasses import dataclass, field

import torch
from torch import nn

from ._registry import register_model
from .base import Autoencoder, ModelConfig


@dataclass
class CustomConfig(ModelConfig):
    #: ``{"class": "package.module:Name", "kwargs": {...}}`` of each module
    encoder_class: dict = field(default_factory=dict)
    decoder_class: dict = field(default_factory=dict)


@register_model("custom")
class CustomAutoencoder(Autoencoder):
    """``decoder(encoder(x))`` with the user's modules; the code must be ``(batch, latent_dim)``."""

    Config = CustomConfig
    sample_ranks = (1, 2, 3)

    def __init__(self, config: CustomConfig, encoder: nn.Module, decoder: nn.Module):
        super().__init__(config)
        self.encoder = encoder
        self.decoder = decoder


def custom_model(encoder: nn.Module, decoder: nn.Module, input_shape: tuple, output_activation: str,
                 loss: str) -> CustomAutoencoder:
    """The model around copies of the user's modules (theirs stay untouched); ``latent_dim`` is the code's width."""
    if encoder is None or decoder is None:
        raise ValueError("give both encoder= and decoder= (torch.nn.Module instances), or neither")
    config = CustomConfig(input_shape=input_shape, output_activation=output_activation, loss=loss,
                          encoder_class=module_spec(encoder, "encoder"), decoder_class=module_spec(decoder, "decoder"))
    enc, dec = copy.deepcopy(encoder), copy.deepcopy(decoder)
    config.latent_dim = code_width(enc, input_shape)
    return CustomAutoencoder(config, enc, dec)


def rebuild_module(spec: dict) -> nn.Module:
    """A fresh module of the class ``spec`` names, built with its stored keyword arguments."""
    return import_class(spec["class"])(**spec["kwargs"])


def module_spec(module: nn.Module, role: str) -> dict:
    """``{"class": import path, "kwargs": get_config()}`` of a user's module; TypeError when it is not one."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"{role} must be a torch.nn.Module, got {type(module).__name__}")
    cls = type(module)
    kwargs = module.get_config() if hasattr(module, "get_config") else {}
    if not isinstance(kwargs, dict):
        raise TypeError(f"{cls.__name__}.get_config() must return a dict of constructor arguments, "
                        f"got {type(kwargs).__name__}")
    return {"class": f"{cls.__module__}:{cls.__qualname__}", "kwargs": kwargs}


def check_rebuildable(spec: dict, role: str) -> None:
    """ValueError, before a file is written, when ``spec`` could not be rebuilt in another process."""
    path = spec["class"]
    module_name, qualname = path.split(":")
    if "<locals>" in qualname:
        raise ValueError(f"the {role} class {path!r} is defined inside a function, so no other program can import "
                         "it; define it at the top level of a module")
    if module_name.split(".")[0] == "torch":
        raise ValueError(f"the {role} is a bare {qualname} from torch, whose layers its class alone cannot "
                         "rebuild; wrap it in your own nn.Module class (with get_config() if it takes arguments)")
    cls = import_class(path)
    params = inspect.signature(cls).parameters.values()
    missing = [p.name for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               and p.name not in spec["kwargs"]]
    if missing:
        raise ValueError(f"the {role} class {path!r} needs the arguments {missing} to be rebuilt; give it a "
                         "get_config() method returning them as a dict")


def import_class(path: str) -> type:
    """The class at ``'package.module:Qual.Name'``; ImportError naming it when it is not there."""
    module_name, _, qualname = path.partition(":")
    obj = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise ImportError(f"{module_name!r} has no {qualname!r}")
    if not (isinstance(obj, type) and issubclass(obj, nn.Module)):
        raise ImportError(f"{path!r} is not an nn.Module class")
    return obj


def code_width(encoder: nn.Module, sample_shape: tuple) -> int:
    """The size of the code ``encoder`` gives one sample of ``sample_shape``: ``(2, latent_dim)`` expected."""
    was_training = encoder.training
    encoder.eval()
    try:
        with torch.no_grad():
            z = encoder(torch.zeros((2,) + tuple(sample_shape)))
    except RuntimeError as e:
        raise ValueError(f"the encoder could not process samples of shape {tuple(sample_shape)}: {e}") from e
    finally:
        encoder.train(was_training)
    if not isinstance(z, torch.Tensor) or z.ndim != 2:
        got = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise ValueError(f"the encoder must return a code of shape (batch, latent_dim), got {got}")
    return int(z.shape[1])
