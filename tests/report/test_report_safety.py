"""What a hostile or careless input cannot do to the report: break the explorer (a column named
``<!--<script>``), kill the page (matplotlib mathtext in a name), or make aekit read a file outside a run
folder (run.json's data path). And the page says plainly when PCA did better."""
import html as html_lib
import json
import re

import numpy as np
import pytest

from aekit import AutoEncoder
from aekit.cli import main
from aekit.report import build_report
from aekit.report.sections import pca_verdict

HOSTILE = ["<!--<script>", "</script><b>x", r"$\foo$", "a&b", "$x", "plain"]


@pytest.fixture(scope="module")
def hostile_page():
    rng = np.random.default_rng(0)
    X = rng.random((60, len(HOSTILE))).astype(np.float32)
    est = AutoEncoder(latent_dim=2, hidden=(4,), epochs=1, batch_size=32, random_state=0).fit(X)
    return build_report(est, X, feature_names=HOSTILE, dataset_name="<i>data</i>")


def test_hostile_column_names_cannot_end_or_comment_out_the_data(hostile_page):
    data = re.search(r'<script type="application/json" id="aekit-explorer-data">(.*?)</script>', hostile_page,
                     re.S).group(1)
    assert "<" not in data and ">" not in data  # nothing inside can start "<!--" or "</script"
    assert json.loads(data)["table"]["names"] == HOSTILE  # read back unchanged, as the browser's JSON.parse does
    assert "<!--" not in hostile_page and "<b>x" not in hostile_page  # no comment opened, no element injected
    assert "<i>data</i>" not in hostile_page and html_lib.escape("<i>data</i>") in hostile_page


def test_mathtext_in_names_does_not_kill_the_page(hostile_page):
    assert "reconstructions" in hostile_page and hostile_page.count('<img src="data:image/png') >= 5


def test_the_cli_never_prints_an_empty_error():
    from aekit.cli import one_line

    assert one_line(ValueError("\n$\\foo$\n^\nParseFatalException: Unknown symbol")) == "$\\foo$"
    assert one_line(ValueError("")) == "ValueError"


def test_report_never_follows_run_json_outside_the_run(tmp_path, capsys):
    secret = tmp_path / "secret.csv"
    secret.write_text("a,b\n1,2\n3,4\n")
    run = tmp_path / "run"
    assert main(["train", str(secret), "--out", str(run), "--epochs", "1", "--hidden", "2", "-q", "--no-report"]) == 0
    info = json.loads((run / "run.json").read_text())
    assert info["data"] == str(secret.resolve())  # recorded, but not followed
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert "outside the run folder" in err and "--data" in err and not (run / "report.html").exists()
    assert main(["report", str(run), "--data", str(secret), "-q"]) == 0  # the user's own, explicit choice
    (run / "inside.csv").write_text(secret.read_text())
    info["data"] = str(run / "inside.csv")
    (run / "run.json").write_text(json.dumps(info))
    assert main(["report", str(run), "-q", "-o", str(run / "again.html")]) == 0  # inside the folder: fine


def test_report_refuses_a_model_link_leading_outside(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (tmp_path / "elsewhere.safetensors").write_bytes(b"x")
    (run / "model.safetensors").symlink_to(tmp_path / "elsewhere.safetensors")
    assert main(["report", str(run), "--data", "digits"]) == 2
    assert "outside the run folder" in capsys.readouterr().err


@pytest.mark.parametrize("ae, pca, says", [
    ({"reconstruction_mse": 0.03, "trustworthiness": 0.95}, {"reconstruction_mse": 0.05, "trustworthiness": 0.83},
     "The autoencoder did better than PCA on every measure"),
    ({"reconstruction_mse": 0.06, "trustworthiness": 0.80}, {"reconstruction_mse": 0.05, "trustworthiness": 0.83},
     "PCA did better than this autoencoder on reconstruction error, trustworthiness."),
])
def test_the_page_says_plainly_who_did_better(ae, pca, says):
    rows = [{"method": "autoencoder", "knn_accuracy": None, **ae}, {"method": "pca", "knn_accuracy": None, **pca}]
    assert says in pca_verdict(rows)
