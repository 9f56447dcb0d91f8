"""PyOD's AutoEncoder with the layers of the workload and its defaults set to it.

PyOD's defaults differ from the tutorial; changed through its public constructor:
hidden_neuron_list=[32] (or [128, 64, 32]), batch_norm=False, dropout_rate=0, batch_size=256 (default 32),
optimizer_params={} (default weight_decay=1e-5), preprocessing=False (default standardises the columns),
epoch_num=epochs, lr=1e-3, verbose=0. What its constructor cannot change: the loss is MSE and the output
layer is linear (no sigmoid), so its BCE below is that of its reconstruction clipped to [eps, 1-eps].
PyOD's fit has no validation data; to time the same work as the others, each epoch ends with a forward pass
over the 10k validation images (eval mode, no gradients, batches of 256) inside the timed span.
Per-epoch times come from PyOD's own ``epoch_update`` hook; per-epoch training loss from ``training_forward``.
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import numpy as np  # noqa: E402
import pyod  # noqa: E402
import torch  # noqa: E402
from pyod.models.auto_encoder import AutoEncoder  # noqa: E402


class TimedAutoEncoder(AutoEncoder):
    """PyOD's AutoEncoder, unchanged, plus timing hooks and a per-epoch validation pass."""

    def __init__(self, x_val=None, **kwargs):
        super().__init__(**kwargs)
        self.x_val = x_val
        self.seconds, self.train_seconds, self.loss, self.val_loss = [], [], [], []
        self._batch_losses = []

    def train(self, train_loader):
        self._t0 = time.perf_counter()
        return super().train(train_loader)

    def training_forward(self, batch_data):
        loss = super().training_forward(batch_data)
        self._batch_losses.append(loss)
        return loss

    def epoch_update(self):
        t_train = time.perf_counter()
        self.loss.append(float(np.mean(self._batch_losses)))
        self._batch_losses = []
        if self.x_val is not None:
            self.model.eval()
            total = 0.0
            with torch.no_grad():
                for i in range(0, len(self.x_val), self.batch_size):
                    xb = self.x_val[i:i + self.batch_size]
                    total += float(self.criterion(self.model(xb), xb)) * len(xb)
            self.val_loss.append(total / len(self.x_val))
            self.model.train()
        now = time.perf_counter()
        self.seconds.append(now - self._t0)
        self.train_seconds.append(t_train - self._t0)
        self._t0 = now
        return super().epoch_update()


def main() -> None:
    args = common.parse_args()
    x_train, x_val = common.load_mnist(args)
    spec = common.MODELS[args["model"]]
    est = TimedAutoEncoder(
        x_val=torch.from_numpy(x_val),
        hidden_neuron_list=[*spec["hidden"], spec["latent"]], hidden_activation_name="relu",
        batch_norm=False, dropout_rate=0.0, batch_size=256, epoch_num=args["epochs"], lr=1e-3,
        optimizer_name="adam", optimizer_params={}, preprocessing=False, verbose=0,
        random_state=args["seed"], device="cpu",
    )
    clock = common.Clock()
    est.fit(x_train)  # fit also scores the training set afterwards (decision_scores_): outside the epochs
    fit_seconds, cpu_wait = clock.lap(), clock.cpu_wait()
    peak = common.peak_rss_mb()
    est.model.eval()

    def reconstruct(xb):
        with torch.no_grad():
            return est.model(torch.from_numpy(xb)).numpy()

    losses = common.final_losses(reconstruct, x_train, x_val)
    common.emit("pyod", args, n_train=len(x_train), n_val=len(x_val), seconds=est.seconds,
                train_seconds=est.train_seconds, fit_seconds=fit_seconds, cpu_wait=cpu_wait, loss=est.loss,
                val_loss=est.val_loss, loss_name="mse", peak_rss_mb=peak, final=losses,
                versions={"pyod": pyod.__version__, "torch": torch.__version__},
                threads={"torch": torch.get_num_threads()})


if __name__ == "__main__":
    main()
