"""Models registered by name, as timm does with ``register_model`` / ``create_model``."""
from __future__ import annotations

from typing import Callable

_MODELS: dict[str, type] = {}


def register_model(name: str) -> Callable[[type], type]:
    """Class decorator: make ``cls`` creatable as ``create_model(name, ...)``."""

    def decorate(cls: type) -> type:
        if name in _MODELS:
            raise ValueError(f"a model named {name!r} is already registered ({_MODELS[name].__name__})")
        cls.kind = name
        _MODELS[name] = cls
        return cls

    return decorate


def list_models() -> list[str]:
    """Names of all registered models, sorted."""
    return sorted(_MODELS)


def model_class(name: str) -> type:
    """The class registered as ``name``; ValueError listing the known names otherwise."""
    try:
        return _MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown model kind {name!r}; known kinds: {', '.join(list_models())}"
        ) from None


def create_model(name: str, **config):
    """Build the model registered as ``name`` from keyword config (its dataclass fields)."""
    cls = model_class(name)
    return cls(cls.Config(**config))
