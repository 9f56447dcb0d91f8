"""Progress for encoding and scoring large inputs from the command line (the library itself stays silent).

``progress_apply(quiet)`` returns an ``apply(fn, X, what)`` that runs ``fn`` over ``X`` in chunks: a tqdm bar
on a terminal, a few whole lines elsewhere (log files and CI never see carriage returns), nothing at all for
small inputs or with ``--quiet``. Chunks are large, so the batched call costs nothing measurable.
"""
from __future__ import annotations

import sys

import numpy as np

PROGRESS_MIN_SAMPLES = 20000  # below this, encoding takes about a second: no display
CHUNK = 8192
MAX_LINES = 10


class Progress:
    """Progress over ``total`` rows: a tqdm bar on a terminal, at most MAX_LINES whole lines elsewhere,
    nothing when quiet or when ``total`` is below ``min_samples`` (about a second of work)."""

    def __init__(self, total: int, what: str, quiet: bool = False, stream=None, unit: str = "rows",
                 min_samples: int = PROGRESS_MIN_SAMPLES):
        self.total, self.what, self.unit, self.done = total, what, unit, 0
        self.quiet = quiet or (total or 0) < min_samples
        self.stream = stream if stream is not None else sys.stderr
        self.bar, self._next = None, 0
        if not self.quiet and getattr(self.stream, "isatty", lambda: False)():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=what, unit=unit.rstrip("s"), file=self.stream, dynamic_ncols=True,
                            leave=False)

    def update(self, rows: int) -> None:
        self.done += rows
        if self.bar is not None:
            self.bar.update(rows)
        elif not self.quiet and (self.done >= self._next or self.done == self.total):
            print(f"{self.what}: {self.done}/{self.total} {self.unit}", file=self.stream, flush=True)
            self._next = self.done + max(1, (self.total or 0) // MAX_LINES)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def progress_apply(quiet: bool = False, stream=None, min_samples: int = PROGRESS_MIN_SAMPLES, chunk: int = CHUNK):
    def apply(fn, X, what: str):
        n = len(X)
        if quiet or n < min_samples:
            return fn(X)  # one call: the library's own batching, untouched
        progress = Progress(n, what, stream=stream, unit="samples", min_samples=0)
        parts = []
        try:
            for start in range(0, n, chunk):
                parts.append(np.asarray(fn(X[start:start + chunk])))
                progress.update(len(parts[-1]))
        finally:
            progress.close()
        return np.concatenate(parts)

    return apply
