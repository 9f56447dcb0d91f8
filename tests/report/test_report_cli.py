"""``aekit train`` leaves run.json and report.html; ``aekit report`` rebuilds it; progress for large inputs."""
import io
import json

import numpy as np
import pytest

from aekit.cli import main
from aekit.cli._progress import progress_apply


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "sequences", "--out", str(out), "--epochs", "1", "--hidden", "4", "--seed", "0", "-q"]) == 0
    return out


def test_train_writes_run_info_and_report(run_dir):
    info = json.loads((run_dir / "run.json").read_text())
    assert info["data"] == "sequences" and info["model"] == "model.safetensors"
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "dense autoencoder on sequences" in html and "aekitExplorers" in html
    assert "training data (no test split)" in html and "seq_5" in html  # table rows keep their column names


def test_report_command_rebuilds_it(run_dir, capsys):
    out = run_dir / "again.html"
    assert main(["report", str(run_dir), "-o", str(out), "--max-points", "30", "--no-explorer"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    html = out.read_text(encoding="utf-8")
    assert "100 samples (30 random ones evaluated)" in html and "aekitExplorers" not in html


def test_no_report_and_missing_run_info(tmp_path, capsys):
    assert main(["train", "sequences", "--out", str(tmp_path), "--epochs", "1", "--hidden", "4", "-q", "--no-report"]) == 0
    assert (tmp_path / "run.json").is_file() and not (tmp_path / "report.html").exists()
    (tmp_path / "run.json").unlink()
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "has no run.json" in err and "--data" in err


@pytest.mark.parametrize("args, message", [
    (["--max-points", "0"], "--max-points must be a positive number"),
    (["--explorer-screenshot", "x.png"], "--explorer-screenshot goes with --screenshot"),
])
def test_bad_flags(run_dir, capsys, args, message):
    assert main(["report", str(run_dir), *args]) == 2
    assert message in capsys.readouterr().err


def test_detector_flag_needs_a_detector(run_dir, capsys):
    assert main(["report", str(run_dir), "--detector", str(run_dir / "model.safetensors")]) == 2
    assert "holds an AutoEncoder, but aekit report --detector needs an AnomalyDetector" in capsys.readouterr().err


def test_progress_lines_when_not_a_terminal():
    stream = io.StringIO()
    apply = progress_apply(stream=stream, min_samples=100, chunk=30)
    X = np.arange(300.0)[:, None]
    np.testing.assert_array_equal(apply(lambda A: A * 2, X, "encoding"), X * 2)
    lines = stream.getvalue().splitlines()
    assert lines[-1] == "encoding: 300/300 samples" and len(lines) == 10 and "\r" not in stream.getvalue()


@pytest.mark.parametrize("quiet, n", [(True, 300), (False, 99)])
def test_no_progress_when_quiet_or_small(quiet, n):
    stream = io.StringIO()
    calls = []
    apply = progress_apply(quiet=quiet, stream=stream, min_samples=100, chunk=30)
    apply(lambda A: calls.append(len(A)) or A, np.zeros((n, 1)), "scoring")
    assert stream.getvalue() == "" and calls == [n]  # one call: the library path is untouched
