"""``aekit reconstruct MODEL DATA -o out.npy``: reconstructions of DATA in the data's own units."""
from __future__ import annotations

from pathlib import Path

from ._common import load_model, model_input, write_array


def register(sub) -> None:
    p = sub.add_parser("reconstruct", help="write the reconstructions of DATA (.npy or .csv)",
                       description="Pass DATA through a saved model; write its reconstructions.")
    p.add_argument("model", metavar="MODEL", type=Path, help="model file written by aekit train")
    p.add_argument("data", metavar="DATA", help="built-in dataset name or data file")
    p.add_argument("-o", "--output", required=True, type=Path, help="output file: .npy or .csv")
    p.add_argument("--data-dir", type=Path, default=None, help="folder holding the files of a built-in dataset")
    p.set_defaults(func=run)


def run(args) -> None:
    from ..datasets import load_dataset

    est = load_model(args.model)
    dataset = load_dataset(args.data, data_dir=args.data_dir)
    recon = est.predict(model_input(dataset, est))
    write_array(args.output, recon, columns=dataset.feature_names)
