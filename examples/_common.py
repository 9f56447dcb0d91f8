"""What the example programs share: command-line flags and loading MNIST (or a quick subset of it)."""
import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")


def parse_args(description: str, epochs: int) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a small subset and 2 epochs (used by the tests)")
    p.add_argument("--epochs", type=int, default=None, help=f"training epochs (default {epochs}; 2 with --quick)")
    p.add_argument("--out", type=Path, default=Path("runs/examples"), help="folder for the pictures")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder with the MNIST IDX files (default: $AEKIT_DATA or the aekit cache)")
    args = p.parse_args()
    args.epochs = args.epochs or (2 if args.quick else epochs)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def mnist(args):
    """(x_train, y_train, x_test, y_test): flat float32 in [0, 1], as the tutorials prepare them."""
    from aekit.datasets import load_mnist

    d = load_mnist(data_dir=args.data_dir)
    if args.quick:
        return d.X[:2000], d.y[:2000], d.X_test[:500], d.y_test[:500]
    return d.X, d.y, d.X_test, d.y_test
