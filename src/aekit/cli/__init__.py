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
from . import completion, compress, denoise, detect, encode, export, info, reconstruct, report, train

#: subcommand modules, in the order ``aekit --help`` lists them
COMMANDS = (train, encode, reconstruct, info, report, detect, denoise, compress, export, completion)


class _Parser(argparse.ArgumentParser):
    """Usage mistakes end as one line too (argparse prints the usage block and the error on two)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def build_parser() -> argparse.ArgumentParser:
    import aekit

    parser = _Parser(
        prog="aekit",
        description="Autoencoders from the command line: train, encode, reconstruct, inspect.",
    )
    parser.add_argument("--version", action="version", version=f"aekit {aekit.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


def one_line(e: BaseException) -> str:
    """The first non-empty line of an error's message (matplotlib's start with a newline), or its type."""
    return next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
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
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # a usage error has been printed (--help and --version exit 0 and go on up)
        if e.code == 2:
            return 2
        raise
    args.argv = list(sys.argv[1:] if argv is None else argv)  # as given: aekit train --nproc N passes it on
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        with _exit_on_sigterm():
            args.func(args)
    except (AekitError, ValueError, TypeError, OSError, ImportError) as e:  # ImportError: a missing extra
        print(f"aekit {args.command}: error: {one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"aekit {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0
