"""The networks behind an ``AnomalyDetector``: the default batched ensemble, or one user-given AutoEncoder.

Both give the detector the same two things, in the space the networks were trained in (for the ensemble,
each feature standardised on the training data): the residual ``scaled(X) - reconstruction`` ``(n, F)``
(for the ensemble: of the members' mean reconstruction), and the codes ``(n, code size)`` (for the
ensemble: every member's code side by side). ``ErrorModel`` scores from these, whichever network made them.
"""
from __future__ import annotations

import numpy as np
import torch

from ..data.scaling import Scaler
from ._ensemble import DenseEnsemble, EnsembleConfig, fit_ensemble

#: rows per forward pass when scoring: 2048 x 784 features x 16 members stay near 100 MB
SCORE_ROWS = 2048


class EnsembleMembers:
    """``n_members`` small dense autoencoders in one module (``_ensemble.DenseEnsemble``)."""

    kind = "ensemble"

    def __init__(self, model: DenseEnsemble, scaler: Scaler):
        self.model, self.scaler = model, scaler

    @classmethod
    def fit(cls, X: np.ndarray, seed: int, **settings) -> "EnsembleMembers":
        flat = X.reshape(len(X), -1)
        scaler = Scaler.fit("standard", flat)
        return cls(fit_ensemble(scaler.transform(flat), seed=seed, **settings), scaler)

    @torch.inference_mode()
    def parts(self, X: np.ndarray, codes: bool = True):
        """``(residuals (n, F), codes (n, M * K) or None)``, float32."""
        self.model.eval()
        scaled = self.scaler.transform(X.reshape(len(X), -1))
        x_all = torch.from_numpy(np.ascontiguousarray(scaled))
        res, code = [], []
        for i in range(0, len(x_all), SCORE_ROWS):
            x = x_all[i:i + SCORE_ROWS]
            z = self.model.encode(x)  # (M, rows, K)
            res.append(x - self.model.decode(z).mean(dim=0))
            if codes:
                code.append(z.permute(1, 0, 2).reshape(len(x), -1))
        return torch.cat(res).numpy(), torch.cat(code).numpy() if codes else None

    def tensors(self) -> dict:
        out = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        out.update(self.scaler.state())
        return out

    def config(self) -> dict:
        return {"kind": self.kind, "ensemble": self.model.config.to_dict()}

    @classmethod
    def from_bundle(cls, tensors: dict, config: dict) -> "EnsembleMembers":
        model = DenseEnsemble(EnsembleConfig(**config["ensemble"]))
        model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
        model.eval()
        return cls(model, Scaler.from_state("standard", tensors))


class AutoEncoderMembers:
    """One fitted ``aekit.AutoEncoder`` (any kind), as the detector used before the ensemble."""

    kind = "autoencoder"

    def __init__(self, autoencoder):
        self.autoencoder = autoencoder

    def parts(self, X: np.ndarray, codes: bool = True):
        ae = self.autoencoder
        scaled = ae.scaler_.transform(X)
        recon = ae.scaler_.transform(ae.predict(X))
        residuals = (scaled - recon).reshape(len(X), -1)
        return residuals, (ae.transform(X) if codes else None)

    def tensors(self) -> dict:
        return self.autoencoder._bundle_tensors()

    def config(self) -> dict:
        return {"kind": self.kind, "autoencoder": self.autoencoder._bundle_config()}

    @classmethod
    def from_bundle(cls, tensors: dict, config: dict) -> "AutoEncoderMembers":
        from ..estimator import AutoEncoder

        return cls(AutoEncoder._from_bundle(tensors, config["autoencoder"]))
