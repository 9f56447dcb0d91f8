"""The shell as its users expect it: pipes (- as DATA, -o -), --help listing the choices and true defaults,
--json summaries, info on a detector, completion, progress over rows and --quiet."""
import json
import subprocess
import sys

import numpy as np
import pytest

from aekit.cli import main


def run(capsys, monkeypatch, *argv, stdin=None):
    """``aekit ARGV`` in this process: (exit status, stdout, stderr)."""
    import io

    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def aekit(*argv, stdin=None):
    return subprocess.run([sys.executable, "-m", "aekit", *map(str, argv)], input=stdin, capture_output=True,
                          text=True)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "digits", "--out", str(out), "--epochs", "2", "--hidden", "8", "--seed", "0", "--quiet",
                 "--no-report"]) == 0
    return out / "model.safetensors"


@pytest.fixture(scope="module")
def detector(tmp_path_factory):
    path = tmp_path_factory.mktemp("det") / "detector.safetensors"
    assert main(["fit-detector", "digits", "-o", str(path), "--epochs", "2", "--seed", "0", "--quiet"]) == 0
    return path


def test_a_pipe_from_stdin_to_stdout(model, tmp_path):
    recon = aekit("reconstruct", model, "digits", "-o", "-")
    assert recon.returncode == 0 and recon.stderr == "", recon.stderr
    codes = aekit("encode", model, "-", "-o", "-", stdin=recon.stdout)
    assert codes.returncode == 0, codes.stderr
    assert main(["reconstruct", str(model), "digits", "-o", str(tmp_path / "r.csv")]) == 0
    assert main(["encode", str(model), str(tmp_path / "r.csv"), "-o", str(tmp_path / "z.csv")]) == 0
    assert codes.stdout == (tmp_path / "z.csv").read_text()  # the same codes as through files
    assert codes.stdout.splitlines()[0] == "z1,z2" and len(codes.stdout.splitlines()) == 1798


def test_summaries_go_to_stderr_when_stdout_carries_the_data(detector, capsys, monkeypatch):
    code, out, err = run(capsys, monkeypatch, "detect", detector, "digits", "-o", "-")
    assert code == 0, err
    assert out.splitlines()[0] == "sample,anomaly_score,pvalue,label,top_features" and len(out.splitlines()) == 1798
    assert "flagged" in err and "flagged" not in out


def test_bad_stdin_is_one_line_naming_stdin(model, capsys, monkeypatch):
    code, out, err = run(capsys, monkeypatch, "encode", model, "-", "-o", "-", stdin="a,b\n")
    assert code == 2 and len(err.splitlines()) == 1 and "stdin holds no rows" in err
    assert "aekit-stdin-" not in err and out == ""


def test_json_summaries(model, detector, tmp_path, capsys):
    assert main(["info", str(detector), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["class"] == "AnomalyDetector"
    assert main(["detect", str(detector), "digits", "-o", str(tmp_path / "s.csv"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["samples"] == 1797 and 0 < summary["flagged"] < 1797 and summary["output"].endswith("s.csv")
    assert main(["train", "sequences", "--out", str(tmp_path / "t"), "--epochs", "2", "--json", "--quiet",
                 "--no-report"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["epochs"] == 2 and summary["kind"] == "dense" and len(summary["files"]) >= 3


def test_info_on_a_detector_reads_as_sentences(detector, capsys):
    assert main(["info", str(detector)]) == 0
    text = capsys.readouterr().out
    assert "None" not in text.split("layers:")[0] and "[1." not in text  # no code size None, no history dump
    assert "threshold by contamination 0.1" in text and "code size 16" in text and "trained: 2 epochs" in text
    assert max(len(line) for line in text.splitlines()) < 160


def test_help_lists_the_registries_choices(capsys):
    from aekit.data.corruption import NOISES
    from aekit.models import list_models
    from aekit.models.base import ACTIVATIONS, LOSSES

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for values in (list_models(), sorted(ACTIVATIONS), ["auto", *LOSSES], ["none", *NOISES]):
        assert "{" + ",".join(values) + "}" in text, values


def test_fit_detector_help_shows_its_true_defaults(capsys):
    from aekit.applications.anomaly import default_autoencoder

    with pytest.raises(SystemExit):
        main(["fit-detector", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    ae = default_autoencoder(64, 1000)
    assert f"training epochs, or auto: 50, or more on small data (enough for 3,000 steps) (default: {ae.epochs})" in text
    assert f"(default: {ae.scaling})" in text and "(default: k = max(2, n_features // 4))" in text
    assert "(default: 2)" not in text and "(default: auto)" not in text.split("--epochs")[1][:120]


def test_usage_errors_are_one_line(capsys):
    assert main(["train", "digits", "--out", "x", "--noise", "pink"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid choice: 'pink'" in err[0] and "gaussian" in err[0]


def test_bash_completion(tmp_path):
    script = subprocess.run([sys.executable, "-m", "aekit", "completion", "bash"], capture_output=True,
                            text=True).stdout
    (tmp_path / "aekit.sh").write_text(script)

    def complete(*words):
        line = " ".join(f"'{w}'" for w in words)
        proc = subprocess.run(["bash", "-c", f"source {tmp_path / 'aekit.sh'}; COMP_WORDS=({line}); "
                               f"COMP_CWORD={len(words) - 1}; _aekit; echo \"${{COMPREPLY[*]}}\""],
                              capture_output=True, text=True, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split()

    assert complete("aekit", "fit") == ["fit-detector"]
    assert complete("aekit", "train", "--noi") == ["--noise", "--noise-factor"]
    assert complete("aekit", "train", "--kind", "conv") == ["conv", "conv1d", "conv_vae"]
    assert "digits" in complete("aekit", "encode", "dig")


def test_progress_over_rows_and_quiet(model, tmp_path, capsys, monkeypatch):
    rows = np.random.default_rng(0).random((20001, 64), dtype=np.float32)
    np.save(tmp_path / "big.npy", rows)
    code, out, err = run(capsys, monkeypatch, "encode", model, tmp_path / "big.npy", "-o", tmp_path / "z.npy")
    assert code == 0 and "encoding: 20001/20001 samples" in err
    code, out, err = run(capsys, monkeypatch, "encode", model, tmp_path / "big.npy", "-o", tmp_path / "z2.npy", "-q")
    assert code == 0 and err == "" and out == ""
    assert np.array_equal(np.load(tmp_path / "z.npy"), np.load(tmp_path / "z2.npy"))
