"""``aekit reconstruct MODEL DATA -o out.npy``: reconstructions of DATA in the data's own units."""
from __future__ import annotations

from pathlib import Path

from . import _dask
from ._common import (ARRAY_SUFFIXES, add_data_argument, add_data_dir_option, add_force_option, add_model_argument,
                      add_quiet_option, check_output_path, load_model, model_input, read_data, write_array)
from ._progress import progress_apply
from ._stream import apply_stream, open_stream


def register(sub) -> None:
    p = sub.add_parser("reconstruct", help="write the reconstructions of DATA (.npy or .csv)",
                       description="Pass DATA through a saved model; write its reconstructions.")
    add_model_argument(p)
    add_data_argument(p)
    p.add_argument("-o", "--output", required=True, type=Path, help="output file: .npy or .csv; - writes CSV to stdout")
    add_data_dir_option(p)
    add_force_option(p)
    add_quiet_option(p)
    _dask.add_dask_option(p)
    p.set_defaults(func=run)


def run(args) -> None:
    if args.dask:
        return _dask.run(args, "reconstruct", unsupported=("data_dir",))
    source = open_stream(args.data)  # too large for memory: read chunk by chunk, written as it goes
    check_output_path(args.output, args.force, ARRAY_SUFFIXES + ((".parquet",) if source is not None else ()))
    est = load_model(args.model, "AutoEncoder", "aekit reconstruct")
    if source is not None:  # too large for memory: chunk by chunk, written as it goes
        names = getattr(est, "feature_names_in_", None)
        columns = list(names) if names is not None else [f"x{i + 1}" for i in range(est.n_features_in_)]
        apply_stream(est.predict, source, args.output, columns, "reconstruct", args.quiet, args.force)
        return
    dataset = read_data(args)
    recon = progress_apply(args.quiet)(est.predict, model_input(dataset, est), "reconstructing")
    write_array(args.output, recon, columns=dataset.feature_names, force=args.force)
