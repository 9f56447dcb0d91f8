"""``aekit report RUN_DIR -o report.html``: one self-contained HTML page about a trained model.

``aekit train`` calls :func:`after_train` to leave ``run.json`` (which data it used) and ``report.html``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..exceptions import AekitError
from ._common import PLOT_SUFFIXES, add_data_dir_option, add_force_option, check_output_path, load_model
from ._progress import progress_apply


def register(sub) -> None:
    p = sub.add_parser(
        "report", help="write a self-contained HTML report of a trained model",
        description="Write one HTML file about the model in RUN_DIR (as aekit train leaves it): settings, data "
                    "summary, loss curves, reconstructions, the latent space with an interactive explorer, the "
                    "reconstruction error, the worst samples and a comparison with PCA. It opens from disk and "
                    "fetches nothing.")
    p.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="folder written by aekit train, or a model file")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="HTML", help="HTML file to write (default RUN_DIR/report.html)")
    p.add_argument("--data", default=None, help="data to evaluate on (default: the data named in RUN_DIR/run.json)")
    add_data_dir_option(p)
    p.add_argument("--detector", type=Path, default=None, metavar="MODEL",
                   help="a saved anomaly detector whose scores and threshold to show (default RUN_DIR/detector.safetensors)")
    p.add_argument("--max-points", type=int, default=20000, metavar="N", help="samples evaluated and shown (default 20000)")
    p.add_argument("--no-explorer", action="store_true", help="leave out the interactive latent explorer")
    p.add_argument("--decode-grid", action="store_true",
                   help="let clicks decode latent points for any model (default: variational models only)")
    p.add_argument("--screenshot", type=Path, default=None, metavar="PNG",
                   help="also save a PNG of the report as headless Chromium shows it (needs aekit[browser] and chromium)")
    p.add_argument("--explorer-screenshot", type=Path, default=None, metavar="PNG",
                   help="with --screenshot: also save the explorer alone, after hovering a point (PNG)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress and no summary")
    add_force_option(p, "replace an existing -o HTML file or screenshot (RUN_DIR/report.html, the run's own "
                        "report, is always rewritten)")
    p.set_defaults(func=run)


def run(args) -> None:
    from ..report import report_for_run

    if args.max_points < 1:
        raise ValueError(f"--max-points must be a positive number of samples, got {args.max_points}")
    if args.explorer_screenshot is not None and args.screenshot is None:
        raise ValueError("--explorer-screenshot goes with --screenshot PNG (the page is opened once for both)")
    # every output checked before any work; the run's own RUN_DIR/report.html is what 'report' rewrites
    check_output_path(args.output, args.force, (".html", ".htm"))
    check_output_path(args.screenshot, args.force, PLOT_SUFFIXES, option="--screenshot")
    check_output_path(args.explorer_screenshot, args.force, PLOT_SUFFIXES, option="--explorer-screenshot")
    detector = None
    if args.detector is not None:
        from ..report.run import split_detector

        detector = split_detector(load_model(args.detector, "AnomalyDetector", "aekit report --detector"))[1]
    path = report_for_run(args.run_dir, args.output, data=args.data, data_dir=args.data_dir, detector=detector,
                          apply=progress_apply(args.quiet), max_points=args.max_points,
                          explorer=not args.no_explorer, decode_grid=True if args.decode_grid else None)
    if not args.quiet:
        print(f"wrote {path}")
    if args.screenshot is not None:
        take_screenshot(path, args.screenshot, args.explorer_screenshot, args.quiet)


def take_screenshot(report_path, png_path, explorer_png, quiet: bool) -> None:
    from ..report.browser import screenshot, unavailable

    why = unavailable()
    if why:
        raise RuntimeError(f"cannot take a screenshot: {why}")
    for problem in screenshot(report_path, png_path, explorer_png=explorer_png):
        print(f"aekit report: warning: {problem}", file=sys.stderr)
    if not quiet:
        print(f"wrote {png_path}" + (f" and {explorer_png}" if explorer_png else ""))


def after_train(est, dataset, out: Path, data, data_dir=None, report: bool = True, quiet: bool = False) -> list:
    """What ``aekit train`` leaves besides the model: ``run.json``, and ``report.html`` unless ``report`` is False.

    A report that cannot be written is a warning, not a failed training run: the model is already saved.
    """
    from ..report import report_for_run, write_run_info

    written = [write_run_info(out, data, data_dir)]
    if report:
        try:
            written.append(report_for_run(out, estimator=est, dataset=dataset, data=str(data),
                                          apply=progress_apply(quiet)))
        except (AekitError, ValueError, TypeError, RuntimeError, OSError) as e:
            print(f"aekit train: warning: the report could not be written ({e}); "
                  f"retry with: aekit report {out}", file=sys.stderr)
    return written
