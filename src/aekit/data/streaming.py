"""Batches for the training loop from a :class:`~aekit.data.sources.Source`, and a bounded shuffle buffer.

Every epoch reads this rank's units in a fresh seeded order (``Source.epoch_units``) and passes the rows
through a shuffle buffer of ``buffer_rows`` rows: each incoming row takes the slot of a row drawn at random,
which leaves for the batch. That is not a full permutation: a row leaves at the earliest when it enters
and, in expectation, after ``buffer_rows`` more rows have come in, so rows of one unit stay nearer each other
than in a permutation; the larger the buffer, the closer (docs/scale.md). The order depends on
``(seed, epoch)`` only, so a resumed epoch replays it and skips the batches it had done.
"""
from __future__ import annotations

from typing import Callable, Iterator, Optional

import numpy as np
import torch

from .sources import Source

#: default shuffle buffer: about 64 MB of rows
BUFFER_BYTES = 64 * 2 ** 20


def shuffle_buffer(chunks: Iterator[np.ndarray], capacity: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Rows of ``chunks`` in a seeded order, holding at most ``capacity`` rows (plus one chunk) at a time."""
    buf, filled = None, 0
    for chunk in chunks:
        pos = 0
        if buf is None:
            buf = np.empty((capacity,) + chunk.shape[1:], dtype=chunk.dtype)
        while pos < len(chunk):
            if filled < capacity:  # filling up
                k = min(capacity - filled, len(chunk) - pos)
                buf[filled:filled + k] = chunk[pos:pos + k]
                filled, pos = filled + k, pos + k
                continue
            k = min(len(chunk) - pos, capacity)
            slots = rng.choice(capacity, size=k, replace=False)  # the rows that leave, in random order
            out = buf[slots]
            buf[slots] = chunk[pos:pos + k]
            pos += k
            yield out
    if filled:
        yield buf[rng.permutation(filled)]


def rebatch(chunks: Iterator[np.ndarray], batch_size: int) -> Iterator[np.ndarray]:
    """Chunks cut into batches of ``batch_size`` rows; a last batch of one row joins the one before
    (batch-norm cannot train on one sample), as ``trainer.batch_starts`` does."""
    pending: list = []
    held = None  # one full batch kept back until we know whether a single row follows it
    count = 0
    for chunk in chunks:
        while len(chunk):
            take = min(batch_size - count, len(chunk))
            pending.append(chunk[:take])
            chunk, count = chunk[take:], count + take
            if count == batch_size:
                if held is not None:
                    yield held
                held = pending[0] if len(pending) == 1 else np.concatenate(pending)
                pending, count = [], 0
    if pending:
        tail = np.concatenate(pending) if len(pending) > 1 else pending[0]
        if held is not None and len(tail) == 1 and batch_size > 1:
            held, tail = np.concatenate([held, tail]), None
        if held is not None:
            yield held
        if tail is not None:
            yield tail
    elif held is not None:
        yield held


class StreamBatches:
    """Training batches from a source, for ``Trainer.fit``: ``epoch(state)``, ``rows``, ``sample(n)``.

    ``transform`` (the fitted scaler) is applied to each chunk as it is read; inputs are their own targets.
    Rank ``rank`` of ``world_size`` reads its share of the units (issue 11's processes).
    """

    def __init__(self, source: Source, batch_size: int, *, shuffle: bool = True, buffer_rows: Optional[int] = None,
                 seed: int = 0, transform: Optional[Callable] = None, device="cpu", rank: int = 0,
                 world_size: int = 1):
        self.source, self.batch_size, self.shuffle, self.seed = source, int(batch_size), bool(shuffle), int(seed)
        row_bytes = max(1, int(np.prod(source.sample_shape)) * 4)
        self.buffer_rows = int(buffer_rows) if buffer_rows is not None else max(1024, BUFFER_BYTES // row_bytes)
        if self.buffer_rows < 1:
            raise ValueError(f"shuffle_buffer must be a positive number of rows, got {buffer_rows!r}")
        self.transform = transform or (lambda a: a)
        self.device, self.rank, self.world_size = torch.device(device), int(rank), int(world_size)
        self.rows = self.batch_size + 1  # the largest batch (a last single row joins the one before)

    def sample(self, n: int) -> torch.Tensor:
        first = next(self.source.chunks())
        return torch.from_numpy(np.ascontiguousarray(self.transform(first[:n]))).to(self.device)

    def state_dict(self, state) -> dict:
        """The stream's position: everything it needs to replay the epoch is the seed, epoch and step."""
        return {"seed": self.seed, "epoch": state.epoch, "step": state.step, "rank": self.rank,
                "world_size": self.world_size}

    def _chunks(self, epoch: int) -> Iterator[np.ndarray]:
        units = self.source.epoch_units(epoch, self.seed, self.shuffle, self.rank, self.world_size)
        for unit in units:
            for chunk in self.source.read(unit):
                yield self.transform(chunk)

    def _shuffled(self, epoch: int) -> Iterator[np.ndarray]:
        chunks = self._chunks(epoch)
        if self.shuffle:
            chunks = shuffle_buffer(chunks, self.buffer_rows, np.random.default_rng([self.seed, epoch, 1]))
        return chunks

    def epoch(self, state) -> Iterator[tuple]:
        # read in this thread: a reader thread ahead of the steps (tried) made epochs slower on busy cores,
        # as each handed-back GIL waits for the other thread; reading costs ~1 us a row of 64 floats
        chunks = self._shuffled(state.epoch)
        for i, batch in enumerate(rebatch(chunks, self.batch_size)):
            if i < state.step:  # done before the checkpoint this run resumed from
                continue
            xb = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)
            yield xb, xb


class StreamValidation:
    """Validation batches from a source (held-out units, or an explicit validation source), in order."""

    def __init__(self, source: Source, batch_size: int, transform: Optional[Callable] = None, device="cpu"):
        self.source, self.batch_size = source, int(batch_size)
        self.transform, self.device = transform or (lambda a: a), torch.device(device)

    def batches(self) -> Iterator[tuple]:
        for batch in rebatch((self.transform(c) for c in self.source.chunks()), self.batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)
            yield xb, xb
