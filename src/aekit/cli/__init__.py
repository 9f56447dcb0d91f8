"""``aekit``: the command line. Each subcommand lives in its own module with ``register(subparsers)``.

Bad input ends in one line on stderr naming the problem and the fix, and exit status 2; no traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys

from ..exceptions import AekitError
from . import compress, denoise, detect, encode, export, info, reconstruct, report, train

#: subcommand modules, in the order ``aekit --help`` lists them
COMMANDS = (train, encode, reconstruct, info, report, detect, denoise, compress, export)


def build_parser() -> argparse.ArgumentParser:
    import aekit

    parser = argparse.ArgumentParser(
        prog="aekit",
        description="Autoencoders from the command line: train, encode, reconstruct, inspect.",
    )
    parser.add_argument("--version", action="version", version=f"aekit {aekit.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


@contextlib.contextmanager
def _exit_on_sigterm():
    """``kill PID`` ends the command as an exception would, so temporary files and folders are removed."""
    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # as given: aekit train --nproc N passes it on
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        with _exit_on_sigterm():
            args.func(args)
    except (AekitError, ValueError, TypeError, OSError, ImportError) as e:  # ImportError: a missing extra
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"aekit {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"aekit {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0
