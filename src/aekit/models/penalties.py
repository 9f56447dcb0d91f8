"""Penalties on the code that any model can carry: this is what makes an autoencoder sparse.

A penalty is a callable ``penalty(out) -> scalar`` with a ``name``; the trainer adds it to the loss.
"""
from __future__ import annotations

import torch
from torch import nn


class L1Activity(nn.Module):
    """Keras' ``activity_regularizer=l1(weight)`` on the code: ``weight * sum|z| / batch_size``.

    The penalty per sample is ``weight * sum_j |z_j|``, independent of the batch size. That is the scaling
    of Keras 1 (``ActivityRegularizer.__call__``: ``l1 * K.sum(K.mean(K.abs(output), axis=0))``), which the
    2016 Keras blog's sparse autoencoder ran on, and of tf.keras (``base_layer``: "Make activity
    regularization strength batch-agnostic"). Standalone Keras 2.0-2.2 and Keras 3 before keras-team/keras
    PR #22021 (January 2026) added the plain sum, i.e. ``batch_size`` (256) times stronger; Keras 3.15
    divides again. We follow the blog's Keras 1 so that its ``l1(10e-5)`` means what it meant there.
    Keras 1 also added the penalty in the training phase only, so the blog's *test* loss is the bare
    reconstruction: compare it with aekit's ``val_reconstruction``, not ``val_loss``.
    """

    name = "l1_activity"

    def __init__(self, weight: float):
        super().__init__()
        self.weight = float(weight)

    def forward(self, out: dict) -> torch.Tensor:
        code = out["code"]  # (batch, latent_dim)
        return self.weight * code.abs().sum() / code.shape[0]


class KLSparsity(nn.Module):
    """The sparse autoencoder's KL penalty: ``weight * sum_j KL(rho || rho_hat_j)``.

    ``rho_hat_j`` is unit j's mean activation over the batch; it must lie in (0, 1), so use a code in
    [0, 1] (``latent_activation='sigmoid'``). Values outside are clamped into (1e-6, 1 - 1e-6).
    """

    name = "kl_sparsity"

    def __init__(self, target: float, weight: float):
        super().__init__()
        self.target, self.weight = float(target), float(weight)

    def forward(self, out: dict) -> torch.Tensor:
        rho = self.target
        rho_hat = out["code"].mean(dim=0).clamp(1e-6, 1 - 1e-6)  # (latent_dim,)
        kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
        return self.weight * kl.sum()


def make_penalties(activity_l1: float = 0.0, sparsity_weight: float = 0.0, sparsity_target: float = 0.05) -> list:
    """The penalties asked for by the estimator's parameters (empty list for none)."""
    penalties = []
    if activity_l1:
        if activity_l1 < 0:
            raise ValueError(f"activity_l1 must be >= 0, got {activity_l1!r}")
        penalties.append(L1Activity(activity_l1))
    if sparsity_weight:
        if sparsity_weight < 0:
            raise ValueError(f"sparsity_weight must be >= 0, got {sparsity_weight!r}")
        if not 0.0 < sparsity_target < 1.0:
            raise ValueError(f"sparsity_target (the target mean activation rho) must be in (0, 1), "
                             f"got {sparsity_target!r}")
        penalties.append(KLSparsity(sparsity_target, sparsity_weight))
    return penalties
