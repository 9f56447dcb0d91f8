"""Every program in examples/ runs as it is (``--quick``: a subset of MNIST, 2 epochs) and writes its picture."""
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PROGRAMS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
ON_MNIST = [name for name in PROGRAMS if "sequences" not in name]


def run_example(name, argv, monkeypatch):
    monkeypatch.setattr(sys, "argv", [name] + argv)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")


def test_every_example_is_covered():
    assert {"sparse.py", "denoising.py", "01_dense_mnist.py", "04_correlated_sequences.py"} <= set(PROGRAMS)


@pytest.mark.parametrize("name", ON_MNIST)
def test_mnist_example_runs_and_writes_its_picture(name, tmp_path, monkeypatch, capsys, mnist_dir):
    run_example(name, ["--quick", "--out", str(tmp_path), "--data-dir", str(mnist_dir)], monkeypatch)
    pngs = list(tmp_path.glob("*.png"))
    assert pngs and all(p.stat().st_size > 1000 for p in pngs)
    assert "wrote" in capsys.readouterr().out


def test_correlated_sequences_example_prints_mse_and_reconstruction(monkeypatch, capsys):
    run_example("04_correlated_sequences.py", ["--quick"], monkeypatch)
    out = capsys.readouterr().out
    assert "training mse" in out and "reconstruction of [10, 1000, 10, 1000, 10]" in out


def test_correlated_sequences_extrapolate_like_the_tutorial():
    """The linear 5-5-2-5 model maps [10, 1000, 10, 1000, 10] near itself (the tutorial: 9.51, 1000.56, ...)."""
    from aekit import AutoEncoder
    from aekit.datasets import make_correlated_sequences

    data = make_correlated_sequences(n=100, random_state=0)
    model = AutoEncoder(latent_dim=2, hidden=(5,), decoder_hidden=(), activation="linear",
                        output_activation="linear", loss="mse", scaling=None, epochs=300, batch_size=32,
                        learning_rate=1e-2, random_state=0).fit(data)
    out = model.predict(np.array([[10, 1000, 10, 1000, 10]]))[0]
    assert np.all(np.abs(out - [10, 1000, 10, 1000, 10]) < 15), out
