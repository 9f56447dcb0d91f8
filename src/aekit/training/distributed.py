"""torch.distributed at the edges of the training loop: setup, agreed decisions, rank-0 writes, the launcher.

Nothing here is a scheduler of aekit's own: processes are started by torch's elastic launcher
(``torch.distributed.run``, the code behind ``torchrun``), on one machine (:func:`launch`, ``--nproc N``) or
several (``torchrun --nnodes ... -m aekit train ...``). Each process reads its rank from the environment
torchrun sets (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``) and joins the
process group: gloo on CPU, nccl on CUDA with one GPU per process (device = local rank), as nanoGPT's
``train.py`` does. Outside torchrun every function here is the single-process identity, so the loop can call
them unconditionally:

- :func:`all_reduce_mean` averages a loss (or a gradient) over the ranks;
- :func:`agree` makes one decision for all ranks (early stopping, the NaN guard, the end of an epoch), so no
  rank waits forever in a collective that another has left;
- :func:`is_main_process` is true on rank 0 alone: it writes models, checkpoints, history and reports.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Optional, Sequence

import torch
import torch.distributed as dist

from ..exceptions import TrainingError

__all__ = ["Context", "agree", "agreed", "all_reduce_gradients", "all_reduce_mean", "environment", "is_main_process",
           "launch", "setup", "teardown"]

_ENV = ("RANK", "LOCAL_RANK", "WORLD_SIZE")


@dataclasses.dataclass(frozen=True)
class Context:
    """Where this process stands: its ranks, the world's size, its device and the backend (None: alone)."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: str = "cpu"
    backend: Optional[str] = None

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def environment(env=None) -> Optional[dict]:
    """``{'rank', 'local_rank', 'world_size'}`` from torchrun's variables, or None when not under torchrun."""
    env = os.environ if env is None else env
    if "WORLD_SIZE" not in env:
        return None
    missing = [k for k in _ENV + ("MASTER_ADDR", "MASTER_PORT") if k not in env]
    if missing:
        raise TrainingError(f"WORLD_SIZE is set but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                            "not: start the processes with torchrun (or aekit train --nproc N)")
    try:
        values = {k.lower(): int(env[k]) for k in _ENV}
    except ValueError as e:
        raise TrainingError(f"torchrun's RANK / LOCAL_RANK / WORLD_SIZE must be integers: {e}") from e
    if not 0 <= values["rank"] < values["world_size"]:
        raise TrainingError(f"RANK={values['rank']} is outside WORLD_SIZE={values['world_size']}")
    return values


def setup(device: str = "auto", env=None) -> Context:
    """Join the process group torchrun describes (once per process); a single-process Context outside it.

    ``device='auto'`` is ``cuda:LOCAL_RANK`` (nccl) when CUDA is available, else cpu (gloo).
    """
    ranks = environment(env)
    cuda = torch.cuda.is_available() and device in ("auto", "cuda")
    if ranks is None:
        return Context(device="cuda" if cuda else "cpu")
    if cuda and ranks["local_rank"] >= torch.cuda.device_count():
        raise TrainingError(f"LOCAL_RANK={ranks['local_rank']} but this machine has {torch.cuda.device_count()} "
                            "GPUs: start at most one process per GPU (--nproc-per-node)")
    backend = "nccl" if cuda else "gloo"
    dev = f"cuda:{ranks['local_rank']}" if cuda else "cpu"
    if cuda:
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=ranks["rank"], world_size=ranks["world_size"])
    return Context(rank=ranks["rank"], local_rank=ranks["local_rank"], world_size=ranks["world_size"],
                   device=dev, backend=backend)


def teardown() -> None:
    """Leave the process group (at the end of training; harmless when none was joined)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def is_main_process() -> bool:
    """True on rank 0 (torchrun's ``RANK`` before the group is joined), and in a process started alone."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return os.environ.get("RANK", "0") == "0"


def _device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def all_reduce_mean(value):
    """The mean of ``value`` (a tensor, in place, or a float) over all ranks; ``value`` itself when alone."""
    if not _active():
        return value
    if torch.is_tensor(value):
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
        value /= dist.get_world_size()
        return value
    t = torch.tensor([float(value)], dtype=torch.float64, device=_device())
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return float(t.item()) / dist.get_world_size()


def agree(flag: bool, how: str = "any") -> bool:
    """One decision for every rank: ``any`` rank's ``flag`` (stop on a NaN anywhere) or ``all`` ranks'."""
    if how not in ("any", "all"):
        raise ValueError(f"how must be 'any' or 'all', got {how!r}")
    if not _active():
        return bool(flag)
    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX if how == "any" else dist.ReduceOp.MIN)
    return bool(t.item())


def all_reduce_gradients(parameters) -> None:
    """Average the gradients of ``parameters`` over the ranks, in one collective (DDP's bucket, as one).

    Called between backward and the optimizer's step, it serves autograd and the hand-written dense step
    alike (both leave their gradients in ``p.grad``). Nothing happens when alone.
    """
    if not _active():
        return
    grads = [p.grad for p in parameters if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])  # (total parameters,)
    all_reduce_mean(flat)
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def agreed(items):
    """``items`` for as long as every rank still has one: the end of an epoch decided the same everywhere.

    Ranks whose shards are longer (uneven Parquet files) stop with the shortest one, as
    ``DistributedSampler(drop_last=True)`` does, instead of waiting forever in a gradient all-reduce that
    the others have left. One small all-reduce per step; ``items`` itself when alone.
    """
    if not _active():
        yield from items
        return
    it = iter(items)
    try:
        while True:
            item = next(it, None)
            if not agree(item is not None, how="all"):
                return
            yield item
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()


def launch(nproc: int, argv: Sequence[str], module: Optional[str] = "aekit") -> None:
    """Run ``python -m module argv...`` (or the script ``argv[0]`` with ``module=None``) in ``nproc`` processes
    on this machine through torch.distributed.run, as ``torchrun --standalone --nproc-per-node N`` does.

    Raises TrainingError naming the first failed rank when any process fails.
    """
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    if not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"--nproc must be a positive integer, got {nproc!r}")
    target = (["-m", module] if module else []) + [str(a) for a in argv]
    args = get_args_parser().parse_args(["--standalone", "--nnodes=1", f"--nproc-per-node={nproc}", *target])
    try:
        run(args)
    except ChildFailedError as e:
        rank, failure = e.get_first_failure()
        raise TrainingError(f"process {rank} of {nproc} failed (exit code {failure.exitcode}); its error is "
                            "printed above") from e
