"""A plain PyTorch loop for the non-dense kinds (common.KINDS), as a typical user writes it.

The same layers as the Keras models (keras_kinds_worker.py) from ``torch.nn``'s own modules: ``nn.Conv2d``
with ``padding=1``, ``nn.MaxPool2d(2, ceil_mode=True)``, ``nn.ConvTranspose2d(stride=2, padding=1,
output_padding=1)``, ``nn.Upsample``, ``nn.LSTM``; a final ``nn.Sigmoid`` and ``nn.BCELoss`` (the VAE: BCE
summed per image + KL, averaged over the batch), ``torch.optim.Adam(lr=1e-3)``, a shuffled
``DataLoader(TensorDataset)``, ``loss.item()`` each step, torch's default threads. Epoch time: training
loop plus validation loop. (torch's symmetric padding aligns strided windows one pixel off Keras' 'same';
the arithmetic is the same.)
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from torch_dataloader_worker import train_and_report  # noqa: E402


def conv_blog() -> nn.Module:
    layers, c = [], 1
    for f in (16, 8, 8):
        layers += [nn.Conv2d(c, f, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)]
        c = f
    for f, pad in ((8, 1), (8, 1), (16, 0)):
        layers += [nn.Conv2d(c, f, 3, padding=pad), nn.ReLU(), nn.Upsample(scale_factor=2)]
        c = f
    return nn.Sequential(*layers, nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid())


def conv_io() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
        nn.ConvTranspose2d(32, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(32, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.Conv2d(32, 1, 3, padding=1), nn.Sigmoid())


class ConvVAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.ReLU(),
                                     nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                                     nn.Linear(64 * 49, 16), nn.ReLU())
        self.mu, self.logvar = nn.Linear(16, 2), nn.Linear(16, 2)
        self.decoder = nn.Sequential(
            nn.Linear(2, 64 * 49), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 64, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 3, padding=1), nn.Sigmoid())

    def forward(self, x):
        h = self.encoder(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if self.training else mu
        self.kl = (-0.5 * (1 + logvar - mu.square() - logvar.exp())).sum(1).mean()
        return self.decoder(z)


class LSTMAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        spec = common.KINDS["lstm"]
        self.enc = nn.LSTM(28, spec["hidden"], batch_first=True)
        self.code = nn.Linear(spec["hidden"], spec["latent"])
        self.dec = nn.LSTM(spec["latent"], spec["hidden"], batch_first=True)
        self.out = nn.Linear(spec["hidden"], 28)

    def forward(self, x):
        h, _ = self.enc(x)
        z = self.code(h[:, -1])
        y, _ = self.dec(z.unsqueeze(1).expand(-1, x.shape[1], -1))
        return torch.sigmoid(self.out(y))


BUILDERS = {"conv-blog": conv_blog, "conv-io": conv_io, "conv-vae": ConvVAE, "lstm": LSTMAutoencoder}


def loss_of(kind: str, model: nn.Module, xb: torch.Tensor) -> torch.Tensor:
    out = model(xb)
    if kind == "conv-vae":
        return F.binary_cross_entropy(out, xb, reduction="sum") / xb.shape[0] + model.kl
    return F.binary_cross_entropy(out, xb)


def main() -> None:
    args = common.parse_args()
    kind = args["model"]
    torch.manual_seed(args["seed"])
    x_train, x_val = common.load_images(args)
    model = BUILDERS[kind]()
    to_tensor = torch.from_numpy if kind == "lstm" else (lambda a: torch.from_numpy(a)[:, None])  # (n, 1, 28, 28)
    train_and_report(args, model, lambda m, xb: loss_of(kind, m, xb), x_train, x_val,
                     common.KINDS[kind]["batch_size"], to_tensor, weights=sum(p.numel() for p in model.parameters()))


if __name__ == "__main__":
    main()
