"""TensorBoard and MLflow callbacks really write runs, and the runs read back with the history's numbers."""
import numpy as np
import pytest

from aekit import AutoEncoder
from aekit.cli import main

pytest.importorskip("tensorboard")
mlflow = pytest.importorskip("mlflow")

FAST = dict(hidden=(8,), latent_dim=3, epochs=3, batch_size=64, validation_split=0.25, random_state=0)


@pytest.fixture
def file_store(tmp_path, monkeypatch):
    """A local MLflow file store (MLflow 3 asks for an explicit opt-in to it)."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    return (tmp_path / "mlruns").as_uri()


def read_scalars(log_dir) -> dict:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    scalars = {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
    texts = [t.tensor_proto.string_val[0].decode() for tag in acc.Tags()["tensors"] for t in acc.Tensors(tag)]
    return scalars, texts


def test_tensorboard_event_files(small_digits, tmp_path, one_thread):
    from aekit.training.tracking import TensorBoardCallback

    X, _ = small_digits
    est = AutoEncoder(callbacks=[TensorBoardCallback(tmp_path / "tb", params={"data": "digits"})], **FAST).fit(X)
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
    scalars, texts = read_scalars(tmp_path / "tb")
    assert {"loss", "val_loss", "reconstruction", "val_reconstruction", "code_activation"} <= set(scalars)
    for key in ("loss", "val_loss", "reconstruction"):
        assert [s for s, _ in scalars[key]] == [1, 2, 3]
        np.testing.assert_allclose([v for _, v in scalars[key]], est.history_[key], rtol=1e-6)
    assert any("| latent_dim | 3 |" in t and "| data | digits |" in t for t in texts)


def test_mlflow_run_params_metrics_artifacts(small_digits, tmp_path, file_store, one_thread):
    from aekit.training.tracking import MLflowCallback

    X, _ = small_digits
    cb = MLflowCallback(file_store, experiment_name="tests", run_name="tiny")
    est = AutoEncoder(callbacks=[cb], **FAST).fit(X)
    cb.log_artifact(est.save(tmp_path / "model.safetensors"))
    client = mlflow.tracking.MlflowClient(file_store)
    run = client.get_run(cb.run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "tiny"
    assert run.data.params["latent_dim"] == "3" and run.data.params["batch_size"] == "64"
    for key in ("loss", "val_loss", "reconstruction"):
        history = client.get_metric_history(cb.run_id, key)
        assert [m.step for m in history] == [1, 2, 3]
        np.testing.assert_allclose([m.value for m in history], est.history_[key], rtol=1e-6)
    assert [a.path for a in client.list_artifacts(cb.run_id)] == ["model.safetensors"]


def test_train_cli_tracks_to_both(tmp_path, file_store, capsys, one_thread):
    out = tmp_path / "run"
    argv = ["train", "digits", "--out", str(out), "--epochs", "2", "--hidden", "8", "-q",
            "--tensorboard", str(tmp_path / "tb"), "--mlflow", file_store]
    assert main(argv) == 0
    scalars, texts = read_scalars(tmp_path / "tb")
    assert len(scalars["loss"]) == 2 and any("| data | digits |" in t for t in texts)
    client = mlflow.tracking.MlflowClient(file_store)
    (run,) = client.search_runs([client.get_experiment_by_name("aekit").experiment_id])
    assert run.data.params["data"] == "digits" and len(client.get_metric_history(run.info.run_id, "loss")) == 2
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"model.safetensors", "report.html", "history.csv", "loss.png"} <= artifacts


def test_mlflow_store_that_cannot_open_is_one_error(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    argv = ["train", "digits", "--out", str(tmp_path / "run"), "--epochs", "1", "-q", "--no-report",
            "--mlflow", (tmp_path / "mlruns").as_uri()]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("aekit train: error: MLflow cannot open the tracking store") and err.count("\n") == 1
