"""A plain PyTorch loop over a DataLoader, as a typical user writes it.

nn.Sequential of Linear/ReLU ending in Sigmoid, nn.BCELoss, Adam(lr=1e-3) with its defaults,
DataLoader(TensorDataset, batch_size=256, shuffle=True), ``loss.item()`` every step for the running loss,
then a validation loop under ``torch.no_grad()``. Epoch time: training loop plus validation loop.
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402


def build(model_name: str) -> nn.Sequential:
    modules = []
    for i, (n_in, n_out) in enumerate(common.layers(model_name)):
        modules.append(nn.Linear(n_in, n_out))
        modules.append(nn.Sigmoid() if i == len(common.layers(model_name)) - 1 else nn.ReLU())
    return nn.Sequential(*modules)


def train_and_report(args: dict, model: nn.Module, loss_of, x_train, x_val, batch_size: int, to_tensor=None,
                     **fields) -> None:
    """The plain loop: ``loss_of(model, xb)`` per batch, Adam, a DataLoader; then the RESULT line."""
    to_tensor = to_tensor or torch.from_numpy
    train_loader = DataLoader(TensorDataset(to_tensor(x_train)), batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(TensorDataset(to_tensor(x_val)), batch_size=batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    seconds, train_seconds, losses, val_losses = [], [], [], []
    clock = common.Clock()
    for epoch in range(args["epochs"]):
        t0 = time.perf_counter()
        model.train()
        running = 0.0
        for (xb,) in train_loader:
            optimizer.zero_grad()
            loss = loss_of(model, xb)
            loss.backward()
            optimizer.step()
            running += loss.item() * xb.size(0)
        t_train = time.perf_counter()
        model.eval()
        val_running = 0.0
        with torch.no_grad():
            for (xb,) in val_loader:
                val_running += loss_of(model, xb).item() * xb.size(0)
        seconds.append(time.perf_counter() - t0)
        train_seconds.append(t_train - t0)
        losses.append(running / len(x_train))
        val_losses.append(val_running / len(x_val))
    fit_seconds, cpu_wait = clock.lap(), clock.cpu_wait()
    peak = common.peak_rss_mb()

    def reconstruct(xb):
        with torch.no_grad():
            return model(to_tensor(xb)).numpy()

    final = common.final_losses(reconstruct, x_train, x_val)
    common.emit("torch-dataloader", args, n_train=len(x_train), n_val=len(x_val), seconds=seconds,
                train_seconds=train_seconds, fit_seconds=fit_seconds, cpu_wait=cpu_wait, loss=losses,
                val_loss=val_losses, peak_rss_mb=peak, final=final, versions={"torch": torch.__version__},
                threads={"torch": torch.get_num_threads()}, **fields)


def main() -> None:
    args = common.parse_args()
    torch.manual_seed(args["seed"])
    x_train, x_val = common.load_mnist(args)
    criterion = nn.BCELoss()
    train_and_report(args, build(args["model"]), lambda model, xb: criterion(model(xb), xb), x_train, x_val, 256)


if __name__ == "__main__":
    main()
