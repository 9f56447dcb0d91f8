"""Kill -9 a real training process at several points, resume it, and get the uninterrupted run's weights
bit for bit: in-memory arrays and a Parquet folder, killed inside steps and inside a checkpoint write."""
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

CHILD = textwrap.dedent("""
    import os, signal, sys, threading
    import numpy as np, torch
    torch.set_num_threads(1)
    import safetensors.torch
    from aekit import AutoEncoder
    from aekit.training import checkpoint
    data, folder, out, mode = sys.argv[1:5]
    saves = [0]
    original_save, original_write = checkpoint.Checkpointer.save, safetensors.torch.save_file

    def save(self, state):
        path = original_save(self, state)
        saves[0] += 1
        if mode.startswith("time:") and saves[0] == int(mode.split(":")[1]):  # die a moment later, mid-step
            threading.Timer(float(mode.split(":")[2]), os.kill, (os.getpid(), signal.SIGKILL)).start()
        return path

    def write(tensors, filename, metadata=None):
        if mode.startswith("write:") and saves[0] + 1 == int(mode.split(":")[1]):
            original_write(tensors, filename, metadata=metadata)
            with open(filename, "r+b") as f:  # half-written, then killed before the rename
                f.truncate(os.path.getsize(filename) // 2)
            os.kill(os.getpid(), signal.SIGKILL)
        original_write(tensors, filename, metadata=metadata)

    checkpoint.Checkpointer.save, safetensors.torch.save_file = save, write
    X = data if os.path.isdir(data) else np.load(data)
    est = AutoEncoder(hidden=(32,), latent_dim=4, dropout=0.1, noise="gaussian", noise_factor=0.1, epochs=5,
                      batch_size=32, validation_split=0.2, early_stopping=3, random_state=0, device="cpu")
    est.fit(X, checkpoint_dir=folder, checkpoint_every=1, checkpoint_steps=7, shuffle_buffer=300)
    est.save(out, overwrite=True)
""")


def run_child(data, folder, out, mode="none"):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", CHILD, str(data), str(folder), str(out), mode], env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory, small_digits_module):
    root = tmp_path_factory.mktemp("resume-data")
    X = small_digits_module
    np.save(root / "digits.npy", X)
    folder = root / "parquet"
    folder.mkdir()
    for i, part in enumerate(np.array_split(X, 3)):  # 3 files x 2 row groups
        table = pa.table({f"p{j}": part[:, j] for j in range(X.shape[1])})
        pq.write_table(table, folder / f"part-{i}.parquet", row_group_size=-(-len(part) // 2))
    return {"memory": root / "digits.npy", "parquet": folder}


@pytest.fixture(scope="module")
def small_digits_module():
    from aekit.datasets import load_digits

    return load_digits().X[:600]


def fit_here(data, folder):
    """The uninterrupted run, in this process (small models train on one thread wherever they run)."""
    from aekit import AutoEncoder

    X = str(data) if os.path.isdir(data) else np.load(data)
    est = AutoEncoder(hidden=(32,), latent_dim=4, dropout=0.1, noise="gaussian", noise_factor=0.1, epochs=5,
                      batch_size=32, validation_split=0.2, early_stopping=3, random_state=0, device="cpu")
    est.fit(X, checkpoint_dir=folder, checkpoint_every=1, checkpoint_steps=7, shuffle_buffer=300)
    return {k: v.detach().clone() for k, v in est.model_.state_dict().items()}


@pytest.mark.parametrize("kind", ["memory", "parquet"])
def test_killed_anywhere_and_resumed_gives_the_uninterrupted_weights(kind, datasets, tmp_path):
    data, folder, out = datasets[kind], tmp_path / "run", tmp_path / "run.safetensors"
    expected = fit_here(data, tmp_path / "ref")
    # killed a moment after its 3rd checkpoint (inside a step); resumed and killed inside its 3rd write
    for mode in ["time:3:0.01", "write:3"]:
        killed = run_child(data, folder, out, mode)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert not out.exists()
        for p in os.listdir(folder):
            if not p.startswith("."):
                load_file(str(folder / p))  # every checkpoint in the folder is whole
    assert [p for p in os.listdir(folder) if p.startswith(".")], "the killed write leaves its temporary file"
    resumed = run_child(data, folder, out)
    assert resumed.returncode == 0, resumed.stderr
    assert not [p for p in os.listdir(folder) if p.startswith(".")]  # the next run removed the leftovers
    assert len(os.listdir(folder)) == 2  # keep_checkpoints
    from aekit import load

    got = {k: v for k, v in load(out).model_.state_dict().items()}
    assert got.keys() == expected.keys()
    for key in expected:
        assert torch.equal(got[key], expected[key]), f"{kind}: {key} differs after resume"
