"""``aekit encode MODEL DATA -o codes.csv``: the codes of DATA under a saved model."""
from __future__ import annotations

from pathlib import Path

from ._common import (add_data_argument, add_data_dir_option, add_model_argument, add_quiet_option, load_model,
                      model_input, read_data, summary_stream, write_array)
from ._progress import progress_apply


def register(sub) -> None:
    p = sub.add_parser("encode", help="write the codes of DATA (.csv or .npy)",
                       description="Encode DATA with a saved model; write one row of codes per sample.")
    add_model_argument(p)
    add_data_argument(p)
    p.add_argument("-o", "--output", required=True, type=Path, help="codes file: .csv (columns z1..zk) or .npy; - writes CSV to stdout")
    p.add_argument("--plot", type=Path, default=None, help="also draw the codes as a scatter coloured by label (PNG)")
    add_data_dir_option(p)
    p.add_argument("--compare", action="store_true",
                   help="also print a comparison with PCA at the same dimension: reconstruction MSE, "
                        "trustworthiness and k-NN accuracy of the labels in code space")
    add_quiet_option(p)
    p.set_defaults(func=run)


def run(args) -> None:
    est = load_model(args.model)
    dataset = read_data(args)
    codes = progress_apply(args.quiet)(est.transform, model_input(dataset, est), "encoding")
    write_array(args.output, codes, column_prefix="z")
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        from .. import plots

        title = "Codes" + (f" (first two of {codes.shape[1]} dimensions)" if codes.shape[1] > 2 else "")
        ax = plots.plot_codes(codes, dataset.y, title=title, label_names=dataset.target_names)
        plots.save_figure(ax, args.plot)
    if args.compare:
        from ..applications.reduction import compare_with_pca, format_table

        print(format_table(compare_with_pca(est, model_input(dataset, est), dataset.y)),
              file=summary_stream(args.output))
