"""Autoencoder architectures, registered by name. Importing this package registers every family."""
from . import dense  # noqa: F401  (registers "dense")
from ._registry import create_model, list_models, model_class, register_model
from .base import Autoencoder, ModelConfig

__all__ = ["Autoencoder", "ModelConfig", "create_model", "list_models", "model_class", "register_model"]
