"""Data-parallel training in 2 real processes on gloo (CPU): the same optimisation as one process, rank-0
writes, resume under DDP, a refused resume with another number of processes, uneven Parquet shards."""
import json
import shutil
import textwrap

import numpy as np
import pytest

import aekit
from aekit import AutoEncoder
from aekit.cli import main
from aekit.training import TrainConfig, distributed

FLAGS = ["--epochs", "4", "--hidden", "32", "--batch-size", "64", "--seed", "0", "--quiet", "--no-report"]


def _losses(folder):
    lines = (folder / "history.csv").read_text().splitlines()
    col = lines[0].split(",").index("loss")
    return [float(line.split(",")[col]) for line in lines[1:]]


def test_two_processes_train_as_one_and_resume(tmp_path, capsys):
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["train", "digits", "--out", str(one), "--checkpoint-every", "0", *FLAGS]) == 0
    assert main(["train", "digits", "--out", str(two), "--checkpoint-every", "1", "--nproc", "2", *FLAGS]) == 0
    # --batch-size is the global batch: the same optimisation, within 2% (float sums in another order)
    assert _losses(two)[-1] == pytest.approx(_losses(one)[-1], rel=0.02)
    assert sorted(p.name for p in (two / "checkpoints").glob("ckpt-*")) == [
        "ckpt-e00003-s0000000.safetensors", "ckpt-e00004-s0000000.safetensors"]
    whole = aekit.load(two / "model.safetensors")

    # one process cannot resume a run of two: one clear line
    capsys.readouterr()
    assert main(["train", "--resume", str(two)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "trained by 2 process(es) and this one has 1; resume it with --nproc 2" in err

    # a run killed after epoch 3 (its last checkpoint gone) resumes in 2 processes to the same weights
    (two / "checkpoints" / "ckpt-e00004-s0000000.safetensors").unlink()
    (two / "model.safetensors").unlink()
    assert main(["train", "--resume", str(two), "--nproc", "2"]) == 0
    resumed = aekit.load(two / "model.safetensors")
    X = np.random.default_rng(0).random((8, 64))
    np.testing.assert_array_equal(resumed.predict(X), whole.predict(X))


def test_batch_size_must_divide_among_the_processes():
    with pytest.raises(ValueError, match="batch_size=63 is the global batch and must divide evenly among 2 proc"):
        TrainConfig(batch_size=63, world_size=2)


WORKER = textwrap.dedent("""
    import json, sys
    from aekit import AutoEncoder
    from aekit.training import Callback, distributed

    class StopAfterTwo(Callback):  # runs on rank 0 alone: its stop must reach rank 1
        def on_epoch_end(self, epoch, logs, trainer, model):
            trainer.stop_training = epoch == 1

    folder, out = sys.argv[1], sys.argv[2]
    est = AutoEncoder(hidden=(16,), latent_dim=2, epochs=4, batch_size=32, early_stopping=3, random_state=0,
                      distributed=True, callbacks=[StopAfterTwo()]).fit(folder)
    rank = distributed.setup().rank
    if distributed.is_main_process():
        est.save(f"{out}/model.safetensors")
    with open(f"{out}/rank{rank}.json", "w") as f:
        json.dump({"loss": est.history_["loss"], "rank": rank}, f)
    distributed.teardown()
""")


def test_uneven_parquet_shards_never_hang_a_rank(tmp_path):
    """Files of 300, 40 and 90 rows (row groups of 50): the ranks' shards differ; both finish together,
    with the same (all-ranks) losses, stop in the same epoch that a callback on rank 0 asks for, and
    rank 0 alone writes the model."""
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i, rows in enumerate((300, 40, 90)):
        table = pa.table({f"f{j}": rng.random(rows, dtype=np.float32) for j in range(6)})
        pq.write_table(table, data / f"part-{i}.parquet", row_group_size=50)
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    distributed.launch(2, [script, data, tmp_path], module=None)
    results = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert results[0]["loss"] == results[1]["loss"] and len(results[0]["loss"]) == 2
    assert np.isfinite(results[0]["loss"]).all()
    assert aekit.load(tmp_path / "model.safetensors").n_features_in_ == 6
    shutil.rmtree(data)
