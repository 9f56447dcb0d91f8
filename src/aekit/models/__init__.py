"""Autoencoder architectures, registered by name. Importing this package registers every family."""
from . import dense  # noqa: F401  (registers "dense")
from . import conv, sequence, variational  # noqa: F401  (conv, lstm, conv1d, vae, conv_vae)
from . import custom  # noqa: F401  (custom: the user's own encoder and decoder)
from ._registry import create_model, list_models, model_class, register_model
from .base import Autoencoder, ModelConfig

__all__ = ["Autoencoder", "ModelConfig", "create_model", "list_models", "model_class", "register_model"]
