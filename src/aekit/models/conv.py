"""Convolutional autoencoders for images ``(H, W)`` or ``(C, H, W)``.

The encoder halves the image once per entry of ``filters``, by a stride-2 convolution
(``downsample='stride'``) or a convolution then 2x2 max-pooling (``'pool'``, Keras' ``padding='same'``:
7 pools to 4). The decoder mirrors it with transposed convolutions (``upsample='transpose'``) or a
convolution then nearest-neighbour upsampling (``'upsample'``), and a last convolution to the image's
channels gives the logits. The code is either a dense layer of ``latent_dim`` units
(``bottleneck='dense'``) or the last feature map itself, flattened (``bottleneck='conv'``, as in the Keras
tutorials; ``latent_dim`` is then that map's size).

Strided convolutions and transposed convolutions pad as Keras' ``padding='same'`` does (``SameConv2d``,
``SameConvTranspose2d``: the odd zero goes after, so on an even size the windows sit one pixel further
down and right than torch's ``padding=1`` puts them), so a Keras tutorial's weights would compute the same
function here. The two Keras tutorials this reproduces, exactly layer for layer:

- Keras blog: ``filters=(16, 8, 8), downsample='pool', upsample='upsample', bottleneck='conv'`` (4,385 weights);
- keras-io: ``filters=(32, 32), downsample='pool', upsample='transpose', bottleneck='conv'`` (28,353 weights).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ._registry import register_model
from .base import Autoencoder, ModelConfig, glorot_init, make_activation
from .dense import dense_stack

DOWNSAMPLES = ("stride", "pool")
UPSAMPLES = ("transpose", "upsample")
BOTTLENECKS = ("dense", "conv")


@dataclass
class ConvConfig(ModelConfig):
    filters: tuple = (32, 64)
    kernel_size: int = 3
    downsample: str = "stride"
    upsample: str = "transpose"
    bottleneck: str = "dense"
    #: dense widths between the flattened feature map and a dense code; None in the decoder mirrors them
    hidden: tuple = ()
    decoder_hidden: Optional[tuple] = None
    activation: str = "relu"
    latent_activation: str = "linear"
    batch_norm: bool = False

    def __post_init__(self):
        self.filters = tuple(int(f) for f in self.filters)
        self.hidden = tuple(int(h) for h in self.hidden)
        if self.decoder_hidden is not None:
            self.decoder_hidden = tuple(int(h) for h in self.decoder_hidden)
        if len(self.input_shape) not in (2, 3):
            raise ValueError(f"convolutional models take images: input_shape (H, W) or (C, H, W), "
                             f"got {tuple(self.input_shape)}")
        if not self.filters or any(f < 1 for f in self.filters):
            raise ValueError(f"filters must be a non-empty tuple of positive channel counts, got {self.filters!r}")
        if int(self.kernel_size) < 1 or int(self.kernel_size) % 2 == 0:
            raise ValueError(f"kernel_size must be an odd positive integer, got {self.kernel_size!r}")
        for name, value, choices in (("downsample", self.downsample, DOWNSAMPLES),
                                     ("upsample", self.upsample, UPSAMPLES),
                                     ("bottleneck", self.bottleneck, BOTTLENECKS)):
            if value not in choices:
                raise ValueError(f"{name} must be one of {choices}, got {value!r}")
        if self.bottleneck == "conv":
            # the code is the last feature map: its size is fixed by the image and the filters
            self.latent_dim = int(math.prod(feature_map_shape(self)))
        super().__post_init__()


def image_shape(config) -> tuple:
    """``(C, H, W)`` of one sample; a 2-D ``input_shape`` is one channel."""
    shape = tuple(config.input_shape)
    return shape if len(shape) == 3 else (1,) + shape


def level_sizes(config) -> list:
    """Spatial size at each level: the image, then after each halving (rounded up, as Keras' 'same')."""
    sizes = [image_shape(config)[1:]]
    for _ in config.filters:
        h, w = sizes[-1]
        sizes.append((-(-h // 2), -(-w // 2)))
    return sizes


def feature_map_shape(config) -> tuple:
    return (config.filters[-1],) + level_sizes(config)[-1]


def _norm_act(layers: list, channels: int, config) -> list:
    if config.batch_norm:
        layers.append(nn.BatchNorm2d(channels))
    layers.append(make_activation(config.activation))
    return layers


def same_padding(size: int, kernel: int, stride: int) -> tuple:
    """Keras' (TensorFlow's) ``padding='same'``: zeros ``(before, after)`` so that ``ceil(size / stride)``
    windows fit, the odd one after. PyTorch's ``padding=k // 2`` pads both sides alike, which for a stride-2
    convolution over an even size shifts every window up and left by one pixel."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """``Conv2D(padding='same')`` as Keras aligns it, for an input of spatial size ``in_size``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, in_size: tuple):
        (top, bottom), (left, right) = (same_padding(int(n), kernel, stride) for n in in_size)
        symmetric = top == bottom and left == right
        super().__init__(c_in, c_out, kernel, stride=stride, padding=(top, left) if symmetric else 0)
        self.extra_pad = None if symmetric else (left, right, top, bottom)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x if self.extra_pad is None else F.pad(x, self.extra_pad))


class _Crop(torch.autograd.Function):
    """``y[..., top:top + h, left:left + w]`` copied into one tensor of ``y``'s memory format, and its gradient
    formed as one such tensor, zero outside the window.

    Two chained slices would leave a strided view, which the next ReLU writes out in the default (NCHW)
    layout, and whose backward allocates, zero-fills and copies twice in that layout; the channels-last
    convolutions then convert each of those tensors back (over a tenth of the keras-io model's step).
    """

    @staticmethod
    def forward(ctx, y, top: int, h: int, left: int, w: int):
        ctx.shape, ctx.window = y.shape, (top, h, left, w)
        ctx.memory_format = _memory_format(y)
        return y[..., top:top + h, left:left + w].contiguous(memory_format=ctx.memory_format)

    @staticmethod
    def backward(ctx, grad):
        top, h, left, w = ctx.window
        full = torch.empty(ctx.shape, dtype=grad.dtype, device=grad.device, memory_format=ctx.memory_format)
        full[..., top:top + h, left:left + w] = grad
        for rows, cols in ((slice(0, top), slice(None)), (slice(top + h, None), slice(None)),
                           (slice(top, top + h), slice(0, left)), (slice(top, top + h), slice(left + w, None))):
            full[..., rows, cols] = 0.0  # the border (for the keras-io model: the last row and column)
        return full, None, None, None, None


def _memory_format(y: torch.Tensor) -> torch.memory_format:
    return torch.channels_last if y.dim() == 4 and y.is_contiguous(memory_format=torch.channels_last) \
        and not y.is_contiguous() else torch.contiguous_format


class SameConvTranspose2d(nn.ConvTranspose2d):
    """``Conv2DTranspose(strides=2, padding='same')`` as Keras aligns it, landing on ``out_size``: the full
    transposed convolution, then the window that the stride-2 'same' convolution over ``out_size`` reads
    (torch's ``padding`` / ``output_padding`` crop both sides alike or add after, so they cannot place it)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, out_size: tuple):
        super().__init__(c_in, c_out, kernel, stride=2, padding=0)
        self.window = tuple((same_padding(int(n), kernel, 2)[0], int(n)) for n in out_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (top, h), (left, w) = self.window
        y = super().forward(x)
        if y.shape[-2:] == (h, w):
            return y
        if self.training and torch.is_grad_enabled() and not torch.jit.is_tracing():
            return _Crop.apply(y, top, h, left, w)
        return y[..., top:top + h, left:left + w]  # evaluating, or traced for export (no Python function there)


class OutputConv2d(nn.Conv2d):
    """The last convolution, to the image's few channels (stride 1, ``padding=k // 2``), computed as the
    transposed convolution with the flipped kernel: the same function and the same weights, but oneDNN's
    backward pass of a convolution to one channel is slow (keras-io's 32 -> 1 layer on 28 x 28, 128 images,
    2 threads: 11.7 ms forward and backward as a convolution, 7.4 ms this way; the forward is the same)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flipped = self.weight.flip(-1, -2).transpose(0, 1)  # (in, out, kh, kw), as conv_transpose2d takes it
        padding = tuple(k - 1 - p for k, p in zip(self.kernel_size, self.padding))
        return F.conv_transpose2d(x, flipped, self.bias, padding=padding)


def conv_features(config) -> nn.Sequential:
    """``(B, C, H, W) -> (B, filters[-1], h, w)``."""
    k, layers, c_in = int(config.kernel_size), [], image_shape(config)[0]
    for f, size in zip(config.filters, level_sizes(config)):
        stride = 2 if config.downsample == "stride" else 1
        layers.append(SameConv2d(c_in, f, k, stride, size))
        _norm_act(layers, f, config)
        if config.downsample == "pool":
            layers.append(nn.MaxPool2d(2, ceil_mode=True))
        c_in = f
    return nn.Sequential(*layers)


def conv_reconstruction(config) -> nn.Sequential:
    """``(B, filters[-1], h, w) -> (B, C, H', W')`` logits, H' >= H (cropped by the model)."""
    k, p, sizes = int(config.kernel_size), int(config.kernel_size) // 2, level_sizes(config)
    layers, c_in, cur = [], config.filters[-1], sizes[-1]
    for level, f in zip(range(len(sizes) - 1, 0, -1), reversed(config.filters)):
        target = sizes[level - 1]
        if config.upsample == "transpose":
            layers.append(SameConvTranspose2d(c_in, f, k, target))
            cur = target
        else:
            # a conv drops its padding where that makes the upsampling land on the encoder's size
            # (the Keras blog's 16 -> 14 convolution before its last upsampling)
            pad = tuple(0 if 2 * (c - (k - 1)) == t else p for t, c in zip(target, cur))
            layers.append(nn.Conv2d(c_in, f, k, padding=pad))
            cur = tuple(2 * (c - 2 * (p - q)) for c, q in zip(cur, pad))
        _norm_act(layers, f, config)
        if config.upsample == "upsample":
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        c_in = f
    layers.append(OutputConv2d(c_in, image_shape(config)[0], k, padding=p))  # logits
    return nn.Sequential(*layers)


class ConvEncoder(nn.Module):
    """``(B, *input_shape) -> (B, latent_dim)``: feature maps, then a dense code or the map flattened."""

    def __init__(self, config, head: bool = True):
        super().__init__()
        self.channels_first = image_shape(config)
        self.features = conv_features(config)
        n_map = int(math.prod(feature_map_shape(config)))
        self.dense = nn.Identity()
        self.out_features = n_map
        if config.bottleneck == "dense":
            widths = (n_map,) + tuple(config.hidden)
            stack = dense_stack(widths, config.activation, False, 0.0)
            if head:
                stack += [nn.Linear(widths[-1], config.latent_dim), make_activation(config.latent_activation)]
            self.dense = nn.Sequential(*stack)
            self.out_features = config.latent_dim if head else widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape((x.shape[0],) + self.channels_first)  # (B, C, H, W)
        return self.dense(self.features(x).flatten(1))


class ConvDecoder(nn.Module):
    """``(B, latent_dim) -> (B, *input_shape)`` logits."""

    def __init__(self, config):
        super().__init__()
        self.input_shape = tuple(config.input_shape)
        self.map_shape = feature_map_shape(config)
        n_map = int(math.prod(self.map_shape))
        self.dense = nn.Identity()
        if config.bottleneck == "dense":
            hidden = tuple(reversed(config.hidden)) if config.decoder_hidden is None else config.decoder_hidden
            widths = (config.latent_dim,) + hidden
            self.dense = nn.Sequential(*dense_stack(widths, config.activation, False, 0.0),
                                       nn.Linear(widths[-1], n_map), make_activation(config.activation))
        self.reconstruction = conv_reconstruction(config)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        maps = self.dense(z).reshape((z.shape[0],) + self.map_shape)  # (B, filters[-1], h, w)
        logits = self.reconstruction(maps)  # (B, C, H', W'), H' >= H
        h, w = self.input_shape[-2:]
        top, left = (logits.shape[-2] - h) // 2, (logits.shape[-1] - w) // 2
        return logits[..., top:top + h, left:left + w].reshape((z.shape[0],) + self.input_shape)


@register_model("conv")
class ConvAutoencoder(Autoencoder):
    """Convolutional encoder and decoder; see the module docstring for the layouts.

    Takes ``(batch, H, W)`` or ``(batch, C, H, W)``; the image shape is ``Config.input_shape`` and so is saved
    in the model file.
    """

    Config = ConvConfig
    sample_ranks = (2, 3)

    def __init__(self, config: ConvConfig):
        super().__init__(config)
        self.encoder = ConvEncoder(config)
        self.decoder = ConvDecoder(config)
        self.apply(glorot_init)
        # channels-last weights: about a third faster on CPU (oneDNN); saved files are layout-free
        self.to(memory_format=torch.channels_last)
