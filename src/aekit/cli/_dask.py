"""``--dask local:N | tcp://host:port`` for encode, reconstruct and detect: DATA a Parquet folder, -o a folder.

The work is :mod:`aekit.applications.dask_scoring`'s; this module only maps the flags onto it.
"""
from __future__ import annotations


def add_dask_option(parser) -> None:
    parser.add_argument(
        "--dask", metavar="SCHEDULER", default=None,
        help="run on Dask: local:N (a cluster of N worker processes on this machine) or tcp://host:port (a "
             "running scheduler). DATA is then a Parquet folder and -o a new folder that gets one "
             "part-NNNNNN.parquet per input partition, in input order (needs: pip install 'aekit[dask]')")


def run(args, what: str, unsupported: tuple = ()) -> None:
    """Compute ``what`` for the Parquet folder ``args.data`` on ``args.dask``; write ``args.output``."""
    from ..applications.dask_scoring import check_new_folder, connect, map_model, write_parquet

    for name in unsupported:
        if getattr(args, name, None):
            raise ValueError(f"--{name.replace('_', '-')} does not work with --dask; run without --dask for it")
    check_new_folder(args.output)
    result = map_model(args.model, args.data, what)  # checks the model, the data and the columns here, first
    with connect(args.dask):
        parts = write_parquet(result, args.output)
    print(f"wrote {len(parts)} Parquet file{'s' if len(parts) != 1 else ''} ({what}) to {args.output}")
