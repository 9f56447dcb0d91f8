"""``aekit export MODEL -o model.onnx``: the model as an ONNX graph (or TorchScript, for a .pt path)."""
from __future__ import annotations

from pathlib import Path

from ._common import add_model_argument


def register(sub) -> None:
    p = sub.add_parser(
        "export", help="write a model as ONNX (.onnx) or TorchScript (.pt)",
        description="Write MODEL as a self-contained graph that takes raw rows (the scaler folded in) and gives "
                    "three outputs: code (as aekit encode), reconstruction (as aekit reconstruct) and score "
                    "(score_samples: higher = more normal). A .onnx path writes ONNX (needs aekit[onnx]); .pt or "
                    ".ts writes TorchScript. A detector exports its autoencoder.")
    add_model_argument(p)
    p.add_argument("--output", "-o", required=True, type=Path, help="file to write: .onnx, .pt or .ts")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--trust-classes", nargs="+", default=None, metavar="MODULE",
                   help="modules whose classes a model with your own encoder/decoder may import")
    p.set_defaults(func=run)


def run(args) -> None:
    from .. import load
    from ..export import export

    model = load(args.model, trust_classes=args.trust_classes or False)
    path = export(model, args.output, overwrite=args.force)
    note = " (its autoencoder)" if hasattr(model, "autoencoder_") else ""
    print(f"wrote {path}{note}: input x {tuple(getattr(model, 'input_shape_', ()))} per row; outputs code, "
          "reconstruction, score")
