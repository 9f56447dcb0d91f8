"""``aekit reconstruct MODEL DATA -o out.npy``: reconstructions of DATA in the data's own units."""
from __future__ import annotations

from pathlib import Path

from ._common import (add_data_argument, add_data_dir_option, add_model_argument, add_quiet_option, load_model,
                      model_input, read_data, write_array)
from ._progress import progress_apply


def register(sub) -> None:
    p = sub.add_parser("reconstruct", help="write the reconstructions of DATA (.npy or .csv)",
                       description="Pass DATA through a saved model; write its reconstructions.")
    add_model_argument(p)
    add_data_argument(p)
    p.add_argument("-o", "--output", required=True, type=Path, help="output file: .npy or .csv; - writes CSV to stdout")
    add_data_dir_option(p)
    add_quiet_option(p)
    p.set_defaults(func=run)


def run(args) -> None:
    est = load_model(args.model)
    dataset = read_data(args)
    recon = progress_apply(args.quiet)(est.predict, model_input(dataset, est), "reconstructing")
    write_array(args.output, recon, columns=dataset.feature_names)
