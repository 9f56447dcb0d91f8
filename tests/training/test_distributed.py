"""The torch.distributed seam: the single-process identities, and 2 real processes on gloo via launch()."""
import json
import textwrap

import pytest
import torch

from aekit.exceptions import TrainingError
from aekit.training import distributed

WORKER = textwrap.dedent("""
    import os, sys
    if len(sys.argv) > 2:  # the failure test: rank 1 fails at once, rank 0 succeeds, neither imports torch
        sys.exit(3 if os.environ["RANK"] == "1" else 0)
    import json, torch
    from aekit.training import distributed

    ctx = distributed.setup(device="cpu")
    mean = distributed.all_reduce_mean(float(ctx.rank + 1))          # ranks 1 and 2 -> 1.5
    grad = distributed.all_reduce_mean(torch.full((3,), float(ctx.rank)))
    result = {"rank": ctx.rank, "world": ctx.world_size, "backend": ctx.backend, "device": ctx.device,
              "mean": mean, "grad": grad.tolist(), "main": distributed.is_main_process(),
              "any": distributed.agree(ctx.rank == 1), "all": distributed.agree(ctx.rank == 1, how="all"),
              "all_true": distributed.agree(True, how="all")}
    with open(f"{sys.argv[1]}/rank{ctx.rank}.json", "w") as f:
        json.dump(result, f)
    distributed.teardown()
""")


def test_alone_every_function_is_the_identity():
    ctx = distributed.setup(device="cpu", env={})
    assert (ctx.rank, ctx.world_size, ctx.backend, ctx.is_main) == (0, 1, None, True)
    assert distributed.is_main_process()
    assert distributed.all_reduce_mean(2.5) == 2.5
    t = torch.ones(2)
    assert distributed.all_reduce_mean(t) is t and t.tolist() == [1.0, 1.0]
    assert distributed.agree(True) is True and distributed.agree(False, how="all") is False


@pytest.mark.parametrize("env, message", [
    ({"WORLD_SIZE": "2", "RANK": "0"}, "LOCAL_RANK, MASTER_ADDR, MASTER_PORT are not"),
    ({"WORLD_SIZE": "2", "RANK": "2", "LOCAL_RANK": "0", "MASTER_ADDR": "x", "MASTER_PORT": "1"},
     "RANK=2 is outside WORLD_SIZE=2"),
    ({"WORLD_SIZE": "two", "RANK": "0", "LOCAL_RANK": "0", "MASTER_ADDR": "x", "MASTER_PORT": "1"},
     "must be integers"),
])
def test_a_broken_environment_is_one_clear_error(env, message):
    with pytest.raises(TrainingError, match=message):
        distributed.environment(env)


def test_bad_arguments():
    with pytest.raises(ValueError, match="how must be 'any' or 'all'"):
        distributed.agree(True, how="most")
    with pytest.raises(ValueError, match="--nproc must be a positive integer, got 0"):
        distributed.launch(0, ["train"])


def test_two_processes_on_gloo(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    distributed.launch(2, [script, tmp_path], module=None)
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for r, res in enumerate(results):
        assert (res["rank"], res["world"], res["backend"], res["device"]) == (r, 2, "gloo", "cpu")
        assert res["mean"] == 1.5 and res["grad"] == [0.5, 0.5, 0.5]
        assert res["main"] is (r == 0)
        assert (res["any"], res["all"], res["all_true"]) == (True, False, True)  # the same on both ranks


def test_a_failed_rank_is_named(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    with pytest.raises(TrainingError, match=r"process 1 of 2 failed \(exit code 3\)"):
        distributed.launch(2, [script, tmp_path, "fail"], module=None)
