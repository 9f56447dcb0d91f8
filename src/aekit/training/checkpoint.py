"""Checkpoints of a training run: a folder of ``ckpt-e<epoch>-s<step>.safetensors`` files.

Each file is one :meth:`TrainState.state_dict`: its tensors in safetensors, everything else as JSON in the
header (``persistence.save_bundle``: atomic, never pickle), with the run's identity (the settings that
decide its result) and its data's fingerprint. The folder behaves as Keras' ``BackupAndRestore`` and
Lightning's ``ckpt_path``: the same call with the same folder continues where the last run stopped, and a
folder written by another run (other settings, other data) is refused with one clear message.
In a run of many processes every rank reads the folder (all resume from the same state) and rank 0 alone
writes. A run resumes with the number of processes it was started with, or is refused: the shards and each
rank's share of the batch depend on it (a checkpoint records ``world_size``).
"""
from __future__ import annotations

import logging
import math
import re
import time
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from .._atomic import remove_orphans
from ..exceptions import CheckpointError, ModelFileError
from .. import persistence
from .distributed import is_main_process

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^ckpt-e(\d+)-s(\d+)\.safetensors$")
CLASS = "TrainingCheckpoint"


class Checkpointer:
    """Saves a run's state into ``folder`` every ``every_epochs`` epochs and/or ``every_steps`` steps.

    Parameters
    ----------
    folder : str or Path
        Created if missing. Temporary files of writes that a kill interrupted are removed here.
    every_epochs : int, default=1
        Save after every this many epochs (0: only when the run ends).
    every_steps : int, default=0
        Also save after every this many optimizer steps within an epoch (0: never mid-epoch).
    keep : int, default=2
        Checkpoints kept; older ones are deleted after each save.
    min_seconds : float, default=0
        Skip an epoch's save when the last one is more recent than this (the CLI's default: checkpoints
        only for runs longer than a minute). Saves never change what the run computes.
    identity : dict
        JSON: the settings that decide the run's result; a folder whose checkpoints differ is refused.
    fingerprint : dict or None
        JSON: the data's fingerprint (``aekit.data.sources``); a mismatch is refused. None: not checked.
    world_size : int, default=1
        The run's number of processes; a checkpoint of another number is refused.
    """

    def __init__(self, folder, every_epochs: int = 1, every_steps: int = 0, keep: int = 2,
                 min_seconds: float = 0.0, identity: Optional[dict] = None, fingerprint: Optional[dict] = None,
                 world_size: int = 1):
        for name, value, low in (("every_epochs", every_epochs, 0), ("every_steps", every_steps, 0), ("keep", keep, 1)):
            if int(value) < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise CheckpointError(f"checkpoint folder {str(self.folder)!r} is a file; give a folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        if is_main_process():  # every rank reads the folder; rank 0 alone writes (and sweeps) it
            remove_orphans(self.folder, again=True)  # temporary files of writes a kill interrupted
        self.every_epochs, self.every_steps, self.keep = int(every_epochs), int(every_steps), int(keep)
        self.min_seconds, self.world_size = float(min_seconds), int(world_size)
        self.identity, self.fingerprint = _jsonable(identity or {}), fingerprint
        self._last_save = time.monotonic()
        self._latest = None

    # -- reading ---------------------------------------------------------------------------------
    def paths(self) -> list:
        """The folder's checkpoints, oldest first."""
        found = [(tuple(int(g) for g in m.groups()), p) for p in self.folder.iterdir()
                 if (m := _NAME.match(p.name))]
        return [p for _, p in sorted(found)]

    def latest(self) -> Optional[tuple]:
        """``(tensors, header)`` of the newest checkpoint after checking it belongs to this run; None if none."""
        if self._latest is None:
            paths = self.paths()
            if not paths:
                return None
            try:
                tensors, header = _read(paths[-1])
            except ModelFileError as e:
                raise CheckpointError(f"{e}; delete it to resume from the one before") from e
            self._check(header, paths[-1])
            self._latest = (tensors, header)
        return self._latest

    def _check(self, header: dict, path: Path) -> None:
        if header.get("class") != CLASS:
            raise CheckpointError(f"{str(path)!r} is not a training checkpoint")
        theirs = header.get("identity", {})
        if theirs != self.identity:
            diff = sorted(k for k in set(theirs) | set(self.identity) if theirs.get(k) != self.identity.get(k))
            shown = ", ".join(f"{k} ({theirs.get(k)!r} there, {self.identity.get(k)!r} here)" for k in diff[:3])
            raise CheckpointError(f"the checkpoints in {str(self.folder)!r} belong to another run: {shown}; "
                                  "use another checkpoint folder, or delete this one to start afresh")
        theirs_n = int(header.get("world_size", 1))
        if theirs_n != self.world_size:
            raise CheckpointError(f"the run in {str(self.folder)!r} was trained by {theirs_n} process(es) and this "
                                  f"one has {self.world_size}; resume it with --nproc {theirs_n} (the shards and "
                                  "each process's share of the batch depend on the number)")
        data = header.get("fingerprint")
        if self.fingerprint is not None and data is not None and data != self.fingerprint:
            raise CheckpointError(f"the data differ from those of the run in {str(self.folder)!r} "
                                  f"({describe_difference(data, self.fingerprint)}); give the run's own data, "
                                  "or delete the folder to start afresh")

    def latest_state(self) -> Optional[dict]:
        """The newest checkpoint's state dict (as ``TrainState.state_dict`` made it); None if none."""
        found = self.latest()
        return None if found is None else _rebuild(found[1]["state"], found[0])

    def restore(self, state) -> bool:
        """Load the newest checkpoint into ``state``; False when the folder holds none."""
        saved = self.latest_state()
        if saved is None:
            return False
        state.load_state_dict(saved)
        logger.info("resumed from %s (epoch %d, step %d)", self.paths()[-1], state.epoch, state.step)
        return True

    # -- writing ---------------------------------------------------------------------------------
    def epoch_ended(self, state) -> None:
        due = self.every_epochs and state.epoch % self.every_epochs == 0
        if due and time.monotonic() - self._last_save >= self.min_seconds:
            self.save(state)

    def save(self, state) -> Optional[Path]:
        """Write ``state`` (rank 0 only: None on the other ranks) and delete the oldest beyond ``keep``."""
        if not is_main_process():
            return None
        tensors: dict = {}
        tree = _flatten(state.state_dict(), "", tensors)
        path = self.folder / f"ckpt-e{state.epoch:05d}-s{state.step:07d}.safetensors"
        config = {"class": CLASS, "identity": self.identity, "fingerprint": self.fingerprint,
                  "world_size": self.world_size, "state": tree}
        persistence.save_bundle(path, tensors, config, overwrite=True)
        self._last_save, self._latest = time.monotonic(), None
        for old in self.paths()[:-self.keep]:
            old.unlink(missing_ok=True)
        return path


def _read(path: Path) -> tuple:
    """``(tensors, header)`` of a checkpoint, its checksum verified (model files' other checks do not apply)."""
    import json

    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        header = json.loads(meta[persistence.HEADER_KEY])
    except Exception as e:  # safetensors' and json's own error types
        raise ModelFileError(f"{str(path)!r} is not a readable checkpoint: {e}") from e
    persistence._verify(path, meta, tensors, int(header.get("format_version", 0)))
    return tensors, header


def describe_difference(theirs: dict, ours: dict) -> str:
    """The first field of two data fingerprints that differs, in words."""
    for key in sorted(set(theirs) | set(ours)):
        if theirs.get(key) != ours.get(key):
            return f"{key}: {_short(theirs.get(key))} then, {_short(ours.get(key))} now"
    return "no difference"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _jsonable(value):
    """Tuples to lists, numpy scalars to Python: what the JSON header gives back when read."""
    import json

    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


# -- a nested state dict <-> (JSON tree, flat tensors) ---------------------------------------------
def _flatten(obj, key: str, tensors: dict):
    if isinstance(obj, np.ndarray):
        obj = torch.from_numpy(np.ascontiguousarray(obj))
    if torch.is_tensor(obj):
        tensors[key] = obj.detach().cpu().contiguous()
        return {"__tensor__": key}
    if isinstance(obj, dict):
        return {"__dict__": [[k, _flatten(v, f"{key}.{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_flatten(v, f"{key}.{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_flatten(v, f"{key}.{i}", tensors) for i, v in enumerate(obj)]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):  # numpy scalars
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):  # JSON has no infinity (the best loss before any)
        return {"__float__": repr(obj)}
    return obj


def _rebuild(tree, tensors: dict):
    if isinstance(tree, dict):
        if "__tensor__" in tree:
            return tensors[tree["__tensor__"]]
        if "__float__" in tree:
            return float(tree["__float__"])
        if "__tuple__" in tree:
            return tuple(_rebuild(v, tensors) for v in tree["__tuple__"])
        return {k: _rebuild(v, tensors) for k, v in tree["__dict__"]}
    if isinstance(tree, list):
        return [_rebuild(v, tensors) for v in tree]
    return tree
