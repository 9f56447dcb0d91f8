"""``aekit encode MODEL DATA -o codes.csv``: the codes of DATA under a saved model."""
from __future__ import annotations

from pathlib import Path

from . import _dask
from ._common import (ARRAY_SUFFIXES, PLOT_SUFFIXES, add_data_argument, add_data_dir_option, add_force_option,
                      add_model_argument, add_quiet_option, check_output_path, load_model, model_input, read_data,
                      summary_stream, write_array, written_or_removed)
from ._progress import progress_apply
from ._stream import apply_stream, open_stream


def register(sub) -> None:
    p = sub.add_parser("encode", help="write the codes of DATA (.csv or .npy)",
                       description="Encode DATA with a saved model; write one row of codes per sample.")
    add_model_argument(p)
    add_data_argument(p)
    p.add_argument("-o", "--output", required=True, type=Path,
                   help="codes file: .csv (columns z1..zk) or .npy (or .parquet for a streamed input); - writes CSV to stdout")
    p.add_argument("--plot", type=Path, default=None, help="also draw the codes as a scatter coloured by label (PNG)")
    add_data_dir_option(p)
    add_force_option(p, "replace the codes file and --plot if they exist")
    _dask.add_dask_option(p)
    p.add_argument("--compare", action="store_true",
                   help="also print a comparison with PCA at the same dimension: reconstruction MSE, "
                        "trustworthiness and k-NN accuracy of the labels in code space")
    add_quiet_option(p)
    p.set_defaults(func=run)


def run(args) -> None:
    if args.dask:
        return _dask.run(args, "encode", unsupported=("plot", "compare", "data_dir"))
    source = open_stream(args.data)  # too large for memory: read chunk by chunk, written as it goes
    check_output_path(args.output, args.force, ARRAY_SUFFIXES + ((".parquet",) if source is not None else ()))
    check_output_path(args.plot, args.force, PLOT_SUFFIXES, option="--plot")
    est = load_model(args.model, "AutoEncoder", "aekit encode")
    if source is not None:  # too large for memory: chunk by chunk, written as it goes
        if args.plot is not None or args.compare:
            raise ValueError("--plot and --compare need the data in memory; a streamed input writes codes only")
        columns = [f"z{i + 1}" for i in range(est.model_.config.latent_dim)]
        apply_stream(est.transform, source, args.output, columns, "encode", args.quiet, args.force)
        return
    dataset = read_data(args)
    codes = progress_apply(args.quiet)(est.transform, model_input(dataset, est), "encoding")
    with written_or_removed() as written:
        written.append(write_array(args.output, codes, column_prefix="z", force=args.force))
        if args.plot is not None:
            _plot(codes, dataset, args.plot)
    if args.compare:
        from ..applications.reduction import compare_with_pca, format_table

        print(format_table(compare_with_pca(est, model_input(dataset, est), dataset.y)),
              file=summary_stream(args.output))


def _plot(codes, dataset, path) -> None:
    """The codes as a scatter coloured by label."""
    import matplotlib

    matplotlib.use("Agg")
    from .. import plots

    title = "Codes" + (f" (first two of {codes.shape[1]} dimensions)" if codes.shape[1] > 2 else "")
    ax = plots.plot_codes(codes, dataset.y, title=title, label_names=dataset.target_names)
    plots.save_figure(ax, path)
