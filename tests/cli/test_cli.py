"""The CLI really run: files written and read back, one-line errors with exit status 2."""
import subprocess
import sys

import numpy as np
import pytest

import aekit
from aekit.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    code = main(["train", "digits", "--out", str(out), "--epochs", "3", "--hidden", "16", "--seed", "0", "--quiet"])
    assert code == 0
    return out


def test_train_writes_model_history_and_pictures(run_dir):
    for name in ("model.safetensors", "history.csv", "loss.png", "reconstructions.png", "codes.png"):
        assert (run_dir / name).stat().st_size > 0, name
    est = aekit.load(run_dir / "model.safetensors")
    assert est.get_params()["hidden"] == (16,) and est.get_params()["epochs"] == 3
    lines = (run_dir / "history.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,loss") and len(lines) == 4


def test_train_end_to_end_as_a_process(tmp_path):
    out = tmp_path / "r"
    proc = subprocess.run([sys.executable, "-m", "aekit", "train", "sequences", "--out", str(out), "--epochs", "2",
                           "--hidden", "none", "--activation", "linear"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "epoch 2/2" in proc.stderr  # progress lines when not a terminal, one per epoch
    assert "wrote" in proc.stdout and (out / "model.safetensors").exists()


def test_train_refuses_to_replace_a_model(run_dir, capsys):
    assert main(["train", "digits", "--out", str(run_dir), "--epochs", "1", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "already exists; pass --force" in err[0]


def test_encode_csv_and_plot(run_dir, tmp_path):
    out = tmp_path / "codes.csv"
    assert main(["encode", str(run_dir / "model.safetensors"), "digits", "-o", str(out), "--plot",
                 str(tmp_path / "codes.png")]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "z1,z2" and len(lines) == 1798
    assert (tmp_path / "codes.png").stat().st_size > 0


def test_reconstruct_npy_matches_python(run_dir, tmp_path, digits):
    out = tmp_path / "recon.npy"
    assert main(["reconstruct", str(run_dir / "model.safetensors"), "digits", "-o", str(out)]) == 0
    X, _ = digits
    np.testing.assert_allclose(np.load(out), aekit.load(run_dir / "model.safetensors").predict(X), rtol=1e-6)


def test_info(run_dir, capsys):
    assert main(["info", str(run_dir / "model.safetensors")]) == 0
    text = capsys.readouterr().out
    assert "AutoEncoder (dense)" in text and "3 epochs" in text and "input shape (64,)" in text


def test_train_on_a_csv_file(tmp_path):
    data = tmp_path / "table.csv"
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(40, 3)) * [1, 10, 100]
    data.write_text("a,b,c\n" + "\n".join(",".join(f"{v:.4f}" for v in r) for r in rows) + "\n")
    assert main(["train", str(data), "--out", str(tmp_path / "r"), "--epochs", "2", "--quiet", "--no-report"]) == 0
    est = aekit.load(tmp_path / "r" / "model.safetensors")
    assert est.scaler_.kind == "minmax" and est.n_features_in_ == 3
    out = tmp_path / "recon.csv"
    assert main(["reconstruct", str(tmp_path / "r" / "model.safetensors"), str(data), "-o", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "a,b,c" and len(lines) == 41  # the input's column names, one row per sample


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "no_such_file.csv", "--out", "{tmp}/r"], "no dataset or file named"),
        (["encode", "{tmp}/missing.safetensors", "digits", "-o", "{tmp}/c.csv"], "no model file at"),
        (["info", "{tmp}/garbage.safetensors"], "not a readable model file"),
        (["train", "{tmp}/nan.csv", "--out", "{tmp}/r"], "contains NaN"),
        (["train", "digits", "--out", "{tmp}/r", "--kind", "nope"], "invalid choice: 'nope'"),
        (["encode", "{run}/model.safetensors", "{tmp}/wide.csv", "-o", "{tmp}/c.csv"],
         "has 5 features, but AutoEncoder is expecting 64"),
    ],
)
def test_bad_input_one_line_exit_2(argv, message, tmp_path, run_dir, capsys):
    (tmp_path / "garbage.safetensors").write_bytes(b"garbage")
    (tmp_path / "nan.csv").write_text("a,b\n1,2\nnan,3\n")
    (tmp_path / "wide.csv").write_text("a,b,c,d,e\n1,2,3,4,5\n")
    argv = [a.format(tmp=tmp_path, run=run_dir) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert message in err[0] and "Traceback" not in err[0]


def test_bad_flag_exits_2_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "aekit", "train", "digits", "--out", "x", "--hidden", "a,b"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "expected comma-separated integers" in proc.stderr


def test_every_subcommand_has_help(capsys):
    from aekit.cli import COMMANDS

    for module in COMMANDS:
        name = module.__name__.rsplit(".", 1)[-1]
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert f"usage: aekit {name}" in capsys.readouterr().out
