"""The tutorial programs in examples/ run as they are (``--quick``: a subset and one epoch)."""
import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["sparse", "denoising"])
def test_example_runs_quick_and_writes_its_png(name, mnist_dir, tmp_path, capsys):
    out = tmp_path / f"{name}.png"
    load(name).main(["--quick", "--out", str(out), "--data-dir", str(mnist_dir)])
    assert out.stat().st_size > 1000
    assert "wrote" in capsys.readouterr().out
