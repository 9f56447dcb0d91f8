"""A batched ensemble of small dense autoencoders: ``n_members`` networks in ONE ``nn.Module``.

Each member sees its own random subset of the features (feature bagging, as in DEAN and RandNet's
varied inputs), has its own width and code size and its own initial weights, and reconstructs every
feature from what it sees. The members' weights are stacked, ``(members, n_in, n_out)``, and a layer
is one batched matrix product (``torch.baddbmm``), so an ensemble of 16 costs about one network of 16x
the width: it trains in one run of ``training.Trainer``, not a Python loop of tiny fits. Narrower
members are the first columns of the stacked weights, the rest held at zero by a unit mask.

The loss may be truncated (``trim``): in each batch, each member ignores the ``trim`` share of samples
it reconstructs worst, so that outliers inside the (unlabelled) training data are not learned
(loss truncation as in ALTBI, Cho et al. 2024; together with few updates, the inlier-memorization
effect of ODIM, Kim et al. 2023).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn


#: the largest code of a member (its hidden layers are at most twice as wide)
MAX_CODE = 32


@dataclass
class EnsembleConfig:
    n_features: int
    n_members: int = 16
    #: share of the features each member sees (at least 2 of them)
    feature_fraction: float = 0.5
    #: share of each batch's worst-reconstructed samples each member leaves out of its loss
    trim: float = 0.1
    seed: int = 0

    def __post_init__(self):
        if int(self.n_features) < 1:
            raise ValueError(f"n_features must be a positive integer, got {self.n_features!r}")
        if int(self.n_members) < 1:
            raise ValueError(f"n_members must be a positive integer, got {self.n_members!r}")
        if not 0.0 < float(self.feature_fraction) <= 1.0:
            raise ValueError(f"feature_fraction must be in (0, 1], got {self.feature_fraction!r}")
        if not 0.0 <= float(self.trim) < 0.5:
            raise ValueError(f"trim must be in [0, 0.5), got {self.trim!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def member_shapes(cfg: EnsembleConfig, rng: np.random.Generator):
    """Per member: its feature mask ``(n_features,)``, hidden width and code size, drawn from ``rng``."""
    d = int(cfg.n_features)
    n_seen = d if d <= 2 else min(d, max(2, int(round(cfg.feature_fraction * d))))
    masks, widths, codes = [], [], []
    for _ in range(int(cfg.n_members)):
        mask = np.zeros(d, dtype=np.float32)
        mask[rng.choice(d, n_seen, replace=False)] = 1.0
        # a bottleneck below what it sees; small members (at most 32 code and 64 hidden units) keep the cost
        # of wide data (784 pixels) bounded
        code = min(MAX_CODE, max(1, int(round(n_seen * rng.uniform(0.2, 0.5)))))
        width = max(2 * code, min(2 * MAX_CODE, int(round(n_seen * rng.uniform(0.5, 1.5)))))
        masks.append(mask), widths.append(width), codes.append(code)
    return np.stack(masks), widths, codes


def _unit_mask(sizes, width: int) -> torch.Tensor:
    """``(members, 1, width)``: 1 for the first ``sizes[m]`` units of member m, 0 beyond."""
    return (torch.arange(width)[None, :] < torch.tensor(sizes)[:, None]).float()[:, None, :]


class DenseEnsemble(nn.Module):
    """``x (batch, F) -> per member: mask -> hidden -> code -> hidden -> (batch, F)``, all members at once.

    ``forward`` gives ``code`` ``(members, batch, max code)`` and ``logits`` (the reconstructions, linear
    output) ``(members, batch, F)``; ``loss`` is the (truncated) mean squared error over members.
    """

    def __init__(self, config: EnsembleConfig):
        super().__init__()
        self.config = config
        rng = np.random.default_rng(int(config.seed))
        masks, widths, codes = member_shapes(config, rng)
        m, d, h, k = len(widths), int(config.n_features), max(widths), max(codes)
        self.register_buffer("feature_mask", torch.from_numpy(masks)[:, None, :])  # (M, 1, F)
        self.register_buffer("hidden_mask", _unit_mask(widths, h))  # (M, 1, H)
        self.register_buffer("code_mask", _unit_mask(codes, k))  # (M, 1, K)
        gen = torch.Generator().manual_seed(int(config.seed))
        self.w = nn.ParameterList([_glorot((m, a, b), gen) for a, b in ((d, h), (h, k), (k, h), (h, d))])
        self.b = nn.ParameterList([nn.Parameter(torch.zeros(m, 1, b)) for b in (h, k, h, d)])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, F) -> (members, batch, K)`` codes (a member's unused code units are 0)."""
        xm = x.unsqueeze(0) * self.feature_mask  # (M, batch, F)
        hidden = torch.relu(torch.baddbmm(self.b[0], xm, self.w[0])) * self.hidden_mask
        return torch.baddbmm(self.b[1], hidden, self.w[1]) * self.code_mask

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        hidden = torch.relu(torch.baddbmm(self.b[2], z, self.w[2])) * self.hidden_mask
        return torch.baddbmm(self.b[3], hidden, self.w[3])  # (M, batch, F)

    def forward(self, x: torch.Tensor) -> dict:
        code = self.encode(x)
        return {"code": code, "logits": self.decode(code)}

    def loss(self, out: dict, target: torch.Tensor) -> tuple[torch.Tensor, dict]:
        per_sample = (out["logits"] - target.unsqueeze(0)).pow(2).mean(dim=2)  # (M, batch)
        keep = per_sample.shape[1] - int(math.floor(float(self.config.trim) * per_sample.shape[1]))
        if keep < per_sample.shape[1]:
            per_sample = torch.topk(per_sample, keep, dim=1, largest=False, sorted=False).values
        rec = per_sample.mean()
        return rec, {"reconstruction": rec}

    def fused_training_step(self, max_rows: int):
        """None: the training loop differentiates ``loss`` with autograd (no hand-written step)."""
        return None


def _glorot(shape, gen: torch.Generator) -> nn.Parameter:
    fan_in, fan_out = shape[1], shape[2]
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return nn.Parameter((torch.rand(shape, generator=gen) * 2 - 1) * bound)


def fit_ensemble(X: np.ndarray, seed: int = 0, n_members: int = 16, feature_fraction: float = 0.5,
                 trim: float = 0.1, steps: int = 1000, learning_rate: float = 1e-3) -> DenseEnsemble:
    """Train a :class:`DenseEnsemble` on scaled ``X`` ``(n, F)`` for about ``steps`` updates (whole epochs)."""
    from ..training import TrainConfig, Trainer

    n = len(X)
    batch = min(256, max(16, n // 8))
    epochs = max(1, math.ceil(steps / max(1, math.ceil(n / batch))))
    model = DenseEnsemble(EnsembleConfig(n_features=X.shape[1], n_members=n_members,
                                         feature_fraction=feature_fraction, trim=trim, seed=seed))
    cfg = TrainConfig(epochs=epochs, batch_size=batch, learning_rate=learning_rate, seed=seed)
    Trainer(cfg).fit(model, torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
    return model

