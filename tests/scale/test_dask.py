"""Dask scoring on a real LocalCluster of 2 single-threaded worker processes (started once for the module)."""
import socket
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
pq = pytest.importorskip("pyarrow.parquet")
pa = pytest.importorskip("pyarrow")
dd = pytest.importorskip("dask.dataframe")

from aekit import AnomalyDetector, AutoEncoder, DataError, ModelFileError, load  # noqa: E402
from aekit.applications import dask_scoring as ds  # noqa: E402
from aekit.cli import main  # noqa: E402

NAMES = [f"p{i}" for i in range(64)]
SIZES = (500, 700, 597)  # three input files of uneven size: three partitions


@pytest.fixture(scope="module")
def client():
    with ds.connect("local:2") as c:
        yield c


@pytest.fixture(scope="module")
def files(tmp_path_factory, digits):
    """A model and a detector trained on named columns, and a Parquet folder of 3 files with the columns
    in another order plus an id column the models never saw."""
    root = tmp_path_factory.mktemp("dask")
    X = digits[0]
    frame = pd.DataFrame(X, columns=NAMES)
    est = AutoEncoder(latent_dim=3, hidden=(16,), epochs=2, random_state=0).fit(frame)
    det = AnomalyDetector(autoencoder=AutoEncoder(latent_dim=3, hidden=(16,), epochs=2), random_state=0).fit(frame)
    est.save(root / "model.safetensors")
    det.save(root / "detector.safetensors")
    folder = root / "data"
    folder.mkdir()
    start = 0
    for i, n in enumerate(SIZES):
        part = frame.iloc[start:start + n][NAMES[::-1]].assign(id=np.arange(start, start + n))
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), folder / f"chunk-{i}.parquet")
        start += n
    return {"root": root, "X": X, "est": est, "det": det, "folder": folder,
            "model": root / "model.safetensors", "detector": root / "detector.safetensors"}


def read_folder(folder):
    """The output folder's files in name order, concatenated."""
    names = sorted(p.name for p in folder.iterdir())
    return names, pd.concat([pd.read_parquet(folder / n) for n in names], ignore_index=True)


def scheduler_address(client):
    return client.scheduler.address


@pytest.mark.parametrize("what", ["encode", "reconstruct", "score"])
def test_map_model_equals_single_process(client, files, what):
    est, X = files["est"], files["X"]
    expected = {"encode": est.transform, "reconstruct": est.predict, "score": est.score_samples}[what](X)
    result = ds.map_model(files["model"], files["folder"], what)
    assert result.npartitions == len(SIZES)
    got = result.compute()
    assert len(got) == len(X)
    np.testing.assert_allclose(got.to_numpy(), np.asarray(expected).reshape(len(X), -1), rtol=1e-6, atol=1e-6)
    if what == "reconstruct":
        assert list(got.columns) == NAMES  # the model's feature order, not the file's


def test_detect_equals_the_detectors_scores_and_labels(client, files):
    det, X = files["det"], files["X"]
    got = ds.map_model(files["detector"], files["folder"], "detect").compute()
    np.testing.assert_allclose(got["anomaly_score"], -det.score_samples(X), rtol=1e-6)
    np.testing.assert_allclose(got["pvalue"], det.pvalues(X), rtol=1e-12)
    np.testing.assert_array_equal(got["label"], det.predict(X))
    assert set(got["label"]) == {-1, 1}


def test_written_folder_in_name_order_is_the_input_order(client, files, tmp_path):
    parts = ds.write_parquet(ds.map_model(files["model"], files["folder"], "encode"), tmp_path / "codes")
    names, back = read_folder(tmp_path / "codes")
    assert names == ["part-000000.parquet", "part-000001.parquet", "part-000002.parquet"]
    assert [p.name for p in parts] == names
    assert [pq.read_metadata(p).num_rows for p in parts] == list(SIZES)  # one file per input partition
    np.testing.assert_allclose(back.to_numpy(), files["est"].transform(files["X"]), rtol=1e-6, atol=1e-6)
    assert list(back.columns) == ["z1", "z2", "z3"]
    with pytest.raises(DataError, match="not empty; give a new or empty output folder"):
        ds.write_parquet(ds.map_model(files["model"], files["folder"], "encode"), tmp_path / "codes")


def test_the_model_is_loaded_once_per_worker(client, files, digits, tmp_path):
    """A model file no worker has seen, 8 partitions: each worker that scored any loads the file once."""
    files["est"].save(tmp_path / "fresh.safetensors")
    frame = dd.from_pandas(pd.DataFrame(digits[0], columns=NAMES), npartitions=8)
    before = client.run(ds.worker_stats)
    ds.map_model(tmp_path / "fresh.safetensors", frame, "score").compute()
    after = client.run(ds.worker_stats)
    loads = {w: after[w]["loads"] - before[w]["loads"] for w in after}
    scored = {w: after[w]["partitions"] - before[w]["partitions"] for w in after}
    assert sum(scored.values()) == 8
    assert all(loads[w] == (1 if scored[w] else 0) for w in after), (loads, scored)


def test_cli_encode_and_detect_on_a_running_scheduler(client, files, tmp_path, capsys):
    """encode as the real command in a subprocess, detect through main(), both against the module's cluster
    as a 'remote' scheduler."""
    address = scheduler_address(client)
    run = subprocess.run([sys.executable, "-m", "aekit", "encode", str(files["model"]), str(files["folder"]),
                          "-o", str(tmp_path / "codes"), "--dask", address], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "wrote 3 Parquet files (encode)" in run.stdout
    assert run.stderr == ""  # no scheduler chatter
    _, codes = read_folder(tmp_path / "codes")
    np.testing.assert_allclose(codes.to_numpy(), files["est"].transform(files["X"]), rtol=1e-6, atol=1e-6)
    code = main(["detect", str(files["detector"]), str(files["folder"]), "-o", str(tmp_path / "scores"),
                 "--dask", address])
    assert code == 0 and "wrote 3 Parquet files (detect)" in capsys.readouterr().out
    _, scores = read_folder(tmp_path / "scores")
    assert list(scores.columns) == ["anomaly_score", "pvalue", "label"]
    np.testing.assert_array_equal(scores["label"], files["det"].predict(files["X"]))


def test_bad_values_name_their_partition(client, files):
    X = files["X"].copy()
    X[1500, 3] = np.nan
    frame = dd.from_pandas(pd.DataFrame(X, columns=NAMES), npartitions=2)
    row = 1500 - frame.divisions[1]  # the row within the second partition
    with pytest.raises(DataError, match=rf"partition 1 \(output part-000001.parquet\): X contains NaN .* row {row},"):
        ds.map_model(files["model"], frame, "score").compute()


def test_aekit_train_on_parquet_keeps_the_column_names(client, files, tmp_path):
    """The folder's files have the columns in reverse order and an id column: the names pick the inputs."""
    pq.write_table(pa.Table.from_pandas(pd.DataFrame(files["X"], columns=NAMES)), tmp_path / "train.parquet")
    assert main(["train", str(tmp_path / "train.parquet"), "--out", str(tmp_path / "run"), "--epochs", "1",
                 "--hidden", "8", "--quiet", "--no-report", "--random-state", "0"]) == 0
    est = load(tmp_path / "run" / "model.safetensors")
    assert list(est.feature_names_in_) == NAMES
    got = ds.map_model(tmp_path / "run" / "model.safetensors", files["folder"], "encode").compute()
    np.testing.assert_allclose(got.to_numpy(), est.transform(files["X"]), rtol=1e-6, atol=1e-6)


def test_columns_of_a_model_trained_on_an_array(client, files, digits, tmp_path):
    est = AutoEncoder(latent_dim=2, hidden=(8,), epochs=1, random_state=0).fit(digits[0])
    est.save(tmp_path / "array.safetensors")
    frame = dd.from_pandas(pd.DataFrame(digits[0], columns=NAMES), npartitions=2)
    got = ds.map_model(tmp_path / "array.safetensors", frame, "encode").compute()  # all 64 columns, in order
    np.testing.assert_allclose(got.to_numpy(), est.transform(digits[0]), rtol=1e-6, atol=1e-6)
    with pytest.raises(DataError, match="trained on 64 unnamed features, but the data have 65 columns"):
        ds.map_model(tmp_path / "array.safetensors", files["folder"], "encode")
    reordered = ds.map_model(tmp_path / "array.safetensors", files["folder"], "encode", columns=NAMES).compute()
    np.testing.assert_allclose(reordered.to_numpy(), est.transform(files["X"]), rtol=1e-6, atol=1e-6)


def test_errors_before_any_task_runs(files, tmp_path):
    (tmp_path / "csvs").mkdir()
    (tmp_path / "csvs" / "a.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="is not a Parquet folder: it holds no .parquet"):
        ds.map_model(files["model"], tmp_path / "csvs", "encode")
    with pytest.raises(DataError, match="no such Parquet folder or file"):
        ds.map_model(files["model"], tmp_path / "nothing", "encode")
    short = dd.from_pandas(pd.DataFrame(files["X"][:, :60], columns=NAMES[:60]), npartitions=1)
    with pytest.raises(DataError, match="the data lack 4 of the model's 64 columns: 'p60', 'p61', 'p62', 'p63'"):
        ds.map_model(files["model"], short, "encode")
    with pytest.raises(ModelFileError, match="holds an AutoEncoder, not an anomaly detector"):
        ds.map_model(files["model"], files["folder"], "detect")
    with pytest.raises(ModelFileError, match="holds an AnomalyDetector, not an autoencoder; encode takes"):
        ds.map_model(files["detector"], files["folder"], "encode")
    with pytest.raises(ValueError, match="what must be one of encode, reconstruct, score, detect, got 'embed'"):
        ds.map_model(files["model"], files["folder"], "embed")
    with pytest.raises(TypeError, match="wrap a pandas DataFrame with dask.dataframe.from_pandas"):
        ds.map_model(files["model"], pd.DataFrame(files["X"], columns=NAMES), "encode")


def test_unreachable_scheduler_is_one_clear_error():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ds.ClusterError, match=f"could not reach the Dask scheduler at 'tcp://127.0.0.1:{port}'"):
        with ds.connect(f"tcp://127.0.0.1:{port}", timeout=1):
            pass


@pytest.mark.parametrize("argv, message", [
    (["--dask", "localhost"], "a Dask scheduler is 'local:N' or 'tcp://host:port', got 'localhost'"),
    (["--dask", "local:0"], "local:N needs at least one worker, got 'local:0'"),
    (["--dask", "local:1", "--plot", "codes.png"], "--plot does not work with --dask"),
])
def test_cli_errors_are_one_line(files, tmp_path, capsys, argv, message):
    code = main(["encode", str(files["model"]), str(files["folder"]), "-o", str(tmp_path / "out")] + argv)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists()


def test_cli_checks_the_output_folder_before_starting_a_cluster(files, tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.parquet").write_bytes(b"")
    code = main(["encode", str(files["model"]), str(files["folder"]), "-o", str(tmp_path / "out"), "--dask", "local:1"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot write into" in err and "it is not empty; give a new or empty output folder" in err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["old.parquet"]
