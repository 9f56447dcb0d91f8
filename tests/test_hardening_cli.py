"""Issue 13, the command line: the wrong kind of model, outputs, clean-up after failure, races, CSV escaping."""
import csv
import os
import signal
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import aekit
from aekit import AnomalyDetector, AutoEncoder
from aekit.cli import main
from aekit.data.io import _is_number

from hardening_helpers import FAST_AE, digits_X

AEKIT = [sys.executable, "-m", "aekit"]
TRAIN_FAST = ["--epochs", "1", "--hidden", "8", "--quiet", "--no-report"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """An autoencoder, a detector, an .aez and data files, made once."""
    d = tmp_path_factory.mktemp("cli")
    X = digits_X(120)
    AutoEncoder(**FAST_AE).fit(X).save(d / "ae.safetensors")
    AnomalyDetector(AutoEncoder(**FAST_AE), random_state=0).fit(X).save(d / "det.safetensors")
    np.save(d / "x.npy", X)
    np.save(d / "img.npy", X.reshape(-1, 8, 8))
    assert main(["compress", str(d / "ae.safetensors"), str(d / "x.npy"), "-o", str(d / "x.aez")]) == 0
    return d


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


# ------------------------------------------------------------------------------- the wrong kind of model
@pytest.mark.parametrize("argv", [
    ["encode", "{det}", "{d}/x.npy", "-o", "{d}/o.csv"],
    ["reconstruct", "{det}", "{d}/x.npy", "-o", "{d}/o.npy"],
    ["compress", "{det}", "{d}/x.npy", "-o", "{d}/o.aez"],
    ["decompress", "{det}", "{d}/x.aez", "-o", "{d}/o.npy"],
    ["denoise", "{det}", "{d}/img.npy", "-o", "{d}/o.npy"],
])
def test_a_detector_given_where_an_autoencoder_is_needed(files, argv, capsys):
    argv = [a.format(d=files, det=files / "det.safetensors") for a in argv]
    assert main(argv) == 2
    line = _one_error_line(capsys)
    assert f"holds an AnomalyDetector, but aekit {argv[0]} needs an AutoEncoder; make one with aekit train" in line
    assert not list(files.glob("o.*"))  # and nothing written, least of all labels as "reconstructions"


def test_an_autoencoder_given_to_detect(files, capsys):
    assert main(["detect", str(files / "ae.safetensors"), str(files / "x.npy"), "-o", str(files / "o.csv")]) == 2
    assert "needs an AnomalyDetector; make one with aekit fit-detector" in _one_error_line(capsys)


# ------------------------------------------------------------------------------------------------ outputs
OUTPUT_COMMANDS = {
    "encode": ["encode", "{d}/ae.safetensors", "{d}/x.npy", "-o", "{out}.csv"],
    "reconstruct": ["reconstruct", "{d}/ae.safetensors", "{d}/x.npy", "-o", "{out}.npy"],
    "compress": ["compress", "{d}/ae.safetensors", "{d}/x.npy", "-o", "{out}.aez"],
    "decompress": ["decompress", "{d}/ae.safetensors", "{d}/x.aez", "-o", "{out}.npy"],
    "detect": ["detect", "{d}/det.safetensors", "{d}/x.npy", "-o", "{out}.csv"],
    "denoise": ["denoise", "{d}/ae.safetensors", "{d}/img.npy", "-o", "{out}.npy"],
    "fit-detector": ["fit-detector", "{d}/x.npy", "-o", "{out}.safetensors", *TRAIN_FAST[:4]],
    "report": ["report", "{d}/ae.safetensors", "--data", "{d}/x.npy", "-o", "{out}.html", "--quiet"],
}


@pytest.mark.parametrize("command", sorted(OUTPUT_COMMANDS))
def test_no_command_overwrites_without_force(files, tmp_path, command, capsys):
    argv = [a.format(d=files, out=tmp_path / "out") for a in OUTPUT_COMMANDS[command]]
    target = next(tmp_path.glob("out*"), None) or tmp_path / argv[argv.index("-o") + 1]
    target.write_bytes(b"keep me")
    assert main(argv) == 2
    assert "already exists; pass --force" in _one_error_line(capsys)
    assert target.read_bytes() == b"keep me"
    assert main(argv + ["--force"]) == 0
    assert target.read_bytes() != b"keep me"


@pytest.mark.parametrize("command", sorted(OUTPUT_COMMANDS))
def test_a_missing_output_folder_fails_before_the_work(files, tmp_path, command, capsys):
    argv = [a.format(d=files, out=tmp_path / "missing_dir" / "out") for a in OUTPUT_COMMANDS[command]]
    start = time.perf_counter()
    assert main(argv) == 2
    assert "does not exist" in _one_error_line(capsys)
    assert time.perf_counter() - start < 5  # fit-detector used to train fully first


def test_encode_plot_into_a_missing_folder_writes_nothing(files, tmp_path, capsys):
    argv = ["encode", str(files / "ae.safetensors"), str(files / "x.npy"), "-o", str(tmp_path / "codes.csv"),
            "--plot", str(tmp_path / "missing_dir" / "p.png")]
    assert main(argv) == 2
    line = _one_error_line(capsys)
    assert "--plot" in line and "missing_dir" in line and ".tmp" not in line
    assert list(tmp_path.iterdir()) == []


def test_a_failed_train_leaves_no_out_folder(tmp_path, capsys):
    np.save(tmp_path / "nan.npy", np.full((20, 3), np.nan))
    out = tmp_path / "a" / "b" / "run"
    assert main(["train", str(tmp_path / "nan.npy"), "--out", str(out), *TRAIN_FAST]) == 2
    _one_error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.npy"]


def test_a_train_that_diverges_on_its_last_step_saves_nothing(tmp_path, capsys):
    np.save(tmp_path / "x.npy", digits_X(100))
    out = tmp_path / "run"
    argv = ["train", str(tmp_path / "x.npy"), "--out", str(out), "--epochs", "1", "--hidden", "4", "--lr", "1e38",
            "--batch-size", "1000", "--quiet", "--no-report", "--seed", "0"]
    assert main(argv) == 2
    assert "holds NaN or infinity" in _one_error_line(capsys)
    assert not out.exists()


def test_orphan_temporary_files_of_killed_writers_are_removed(files, tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = tmp_path / f".codes.csv.{dead.pid}.abc123de.tmp.csv"
    other = tmp_path / f".other.npy.{dead.pid}.abc123de.tmp.npy"
    live = tmp_path / f".codes.csv.{os.getppid()}.def456gh.tmp.csv"  # a writer that still runs: kept
    mine = tmp_path / ".notes.1.txt"  # not one of aekit's names: kept
    stage = tmp_path / "run" / f".aekit-run.{dead.pid}.xyz_1234.tmp"
    for path in (orphan, other, live, mine):
        path.write_text("half")
    stage.mkdir(parents=True)
    (stage / "model.safetensors").write_text("half")
    assert main(["encode", str(files / "ae.safetensors"), str(files / "x.npy"), "-o", str(tmp_path / "codes.csv")]) == 0
    assert not orphan.exists() and not other.exists() and live.exists() and mine.exists()
    assert main(["train", str(files / "x.npy"), "--out", str(tmp_path / "run"), *TRAIN_FAST]) == 0
    assert sorted(p.name for p in (tmp_path / "run").iterdir() if p.name.startswith(".")) == []


def test_sigterm_during_train_removes_the_staged_run(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(AEKIT + ["train", "digits", "--out", str(out), "--epochs", "500", "--hidden", "8",
                                     "--quiet", "--no-report"], stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and not (out.exists() and any(out.iterdir())):
        time.sleep(0.2)
    assert out.exists(), proc.stderr.read()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert not out.exists()


# -------------------------------------------------------------------------------------------------- races
def _train(data, out, *extra):
    return subprocess.Popen(AEKIT + ["train", str(data), "--out", str(out), "--hidden", "4", "--quiet", "--no-report",
                                     *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _history_rows(out) -> int:
    with open(out / "history.csv") as f:
        return sum(1 for _ in f) - 1


def _check_one_run(out) -> None:
    model = aekit.load(out / "model.safetensors")
    assert _history_rows(out) == len(model.history_["loss"])  # one run's model with that run's history
    assert sorted(p.name for p in out.iterdir()) == ["history.csv", "loss.png", "model.safetensors", "run.json"]


def test_two_trainings_into_one_folder_at_once(files, tmp_path):
    """Two real ``aekit train`` processes into one --out, started together: one wins, the other says so."""
    out = tmp_path / "same"
    procs = [_train(files / "x.npy", out, "--epochs", "2"), _train(files / "x.npy", out, "--epochs", "3")]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert sorted(code for code, _ in results) == [0, 2], results
    assert any("already exists" in err for _, err in results)
    _check_one_run(out)


def test_two_forced_trainings_at_once_never_mix_their_files(files, tmp_path):
    """With --force both succeed, and the folder holds all of one run's files: the publishing is locked."""
    out = tmp_path / "forced"
    codes = []

    def train(epochs):
        codes.append(main(["train", str(files / "x.npy"), "--out", str(out), "--hidden", "4", "--quiet",
                           "--no-report", "--epochs", str(epochs), "--force"]))

    threads = [threading.Thread(target=train, args=(epochs,)) for epochs in (2, 3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert codes == [0, 0, 0]
    _check_one_run(out)


# ----------------------------------------------------------------------------------------- CSV outputs
def test_formula_like_feature_names_are_escaped_in_csv_outputs(tmp_path, capsys):
    names = ["=HYPERLINK(\"http://x\")", "+1+2", "-3", "@SUM(A1)", "plain"]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 5))
    X[:8] += 6  # some outliers, so that top_features cells are written
    with open(tmp_path / "t.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        w.writerows(X.round(4))
    det, scores, recon = tmp_path / "d.safetensors", tmp_path / "s.csv", tmp_path / "r.csv"
    assert main(["fit-detector", str(tmp_path / "t.csv"), "-o", str(det), *TRAIN_FAST[:4], "--seed", "0"]) == 0
    assert main(["detect", str(det), str(tmp_path / "t.csv"), "-o", str(scores), "--top", "5"]) == 0
    ae = tmp_path / "ae.safetensors"
    AutoEncoder(**FAST_AE).fit(X).save(ae)
    assert main(["reconstruct", str(ae), str(tmp_path / "t.csv"), "-o", str(recon)]) == 0
    for path in (scores, recon):
        with open(path, newline="") as f:
            cells = [c for row in csv.reader(f) for c in row]
        text = [c for c in cells if not _is_number(c)]
        assert text and not [c for c in text if c[:1] in ("=", "+", "-", "@")], path
    with open(scores, newline="") as f:
        assert any(c.startswith("'=HYPERLINK") for row in csv.reader(f) for c in row)


# ------------------------------------------------------------------------------------ one quiet error line
def test_data_near_the_float32_limit_give_one_line_and_no_warnings(tmp_path, capsys):
    X = np.random.default_rng(0).uniform(-3e38, 3e38, (60, 4)).astype(np.float32)
    np.save(tmp_path / "big.npy", X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code = main(["train", str(tmp_path / "big.npy"), "--out", str(tmp_path / "r"), "--scaling", "none",
                     *TRAIN_FAST])
    assert code == 2
    assert "the loss became" in _one_error_line(capsys)


@pytest.mark.parametrize("command", ["info", "encode"])
def test_a_forged_header_is_one_line_for_every_command(files, tmp_path, command, capsys):
    from aekit.persistence import load_bundle

    from hardening_helpers import reseal_model

    tensors, config = load_bundle(files / "ae.safetensors")
    reseal_model(tmp_path / "f.safetensors", {**config, "model": ["dense"]}, tensors)
    argv = [command, str(tmp_path / "f.safetensors")]
    if command == "encode":
        argv += [str(files / "x.npy"), "-o", str(tmp_path / "c.csv")]
    assert main(argv) == 2
    assert "has a damaged header: 'model' is list, expected an object" in _one_error_line(capsys)
