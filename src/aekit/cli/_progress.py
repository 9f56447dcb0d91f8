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


def progress_apply(quiet: bool = False, stream=None, min_samples: int = PROGRESS_MIN_SAMPLES, chunk: int = CHUNK):
    stream = stream if stream is not None else sys.stderr

    def apply(fn, X, what: str):
        n = len(X)
        if quiet or n < min_samples:
            return fn(X)
        starts = range(0, n, chunk)
        bar = None
        if getattr(stream, "isatty", lambda: False)():
            from tqdm.auto import tqdm

            bar = tqdm(total=n, desc=what, unit="sample", file=stream, dynamic_ncols=True, leave=False)
        every = max(1, -(-len(starts) // MAX_LINES))
        parts = []
        for k, start in enumerate(starts):
            parts.append(np.asarray(fn(X[start:start + chunk])))
            done = min(n, start + chunk)
            if bar is not None:
                bar.update(done - start)
            elif (k + 1) % every == 0 or done == n:
                print(f"{what}: {done}/{n} samples", file=stream, flush=True)
        if bar is not None:
            bar.close()
        return np.concatenate(parts)

    return apply
