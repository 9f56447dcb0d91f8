"""Sources: Parquet folders by row groups, memory-mapped .npy, iterables; shuffling, sharding, validation
split, streaming statistics, and fitting on a stream."""
import numpy as np
import pytest
import torch

from aekit import AutoEncoder, DataError
from aekit.data.scaling import RunningStats, Scaler
from aekit.data.sources import ArraySource, IterableSource, NpySource, open_source
from aekit.data.streaming import StreamBatches, rebatch, shuffle_buffer
from aekit.training.state import TrainState

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def write_folder(folder, X, files=3, row_group=50, extra=None):
    folder.mkdir(exist_ok=True)
    for i, part in enumerate(np.array_split(X, files)):
        columns = {f"f{j}": part[:, j] for j in range(X.shape[1])}
        columns.update(extra(len(part)) if extra else {})
        pq.write_table(pa.table(columns), folder / f"part-{i}.parquet", row_group_size=row_group)
    return folder


@pytest.fixture
def table(small_digits):
    X = small_digits[0][:, :6] * 10 + np.arange(6, dtype=np.float32)  # 200 x 6, not in [0, 1]
    return X


def rows_of(chunks):
    return np.concatenate(list(chunks))


def test_parquet_folder_reads_row_groups_and_selected_columns(tmp_path, table):
    src = open_source(write_folder(tmp_path / "pq", table))
    assert len(src.units()) == 6 and src.n_rows == 200 and src.sample_shape == (6,)  # 3 files x 2 row groups
    np.testing.assert_array_equal(rows_of(src.chunks()), table)
    two = open_source(tmp_path / "pq", columns=["f4", "f1"])
    np.testing.assert_array_equal(rows_of(two.chunks()), table[:, [4, 1]])
    with pytest.raises(DataError, match="column 'nope' is not in"):
        open_source(tmp_path / "pq", columns=["nope"])


@pytest.mark.parametrize("extra, match", [
    (lambda n: {"name": pa.array(["a"] * n)}, "column 'name' holds string values"),
    (lambda n: {"tags": pa.array([[1.0]] * n)}, r"column 'tags' holds list<.*double> values \(nested\)"),
])
def test_parquet_refuses_non_numeric_and_nested_columns_by_name(tmp_path, table, extra, match):
    with pytest.raises(DataError, match=match):
        open_source(write_folder(tmp_path / "pq", table, extra=extra))


def test_npy_is_memory_mapped_and_read_in_units(tmp_path, table):
    np.save(tmp_path / "x.npy", table)
    src = NpySource(tmp_path / "x.npy", unit_rows=64)
    assert isinstance(src.X, np.memmap) and [src.unit_rows(u) for u in src.units()] == [64, 64, 64, 8]
    np.testing.assert_array_equal(rows_of(src.chunks()), table)


def test_an_iterator_is_read_once_and_a_function_every_epoch(table):
    src = IterableSource(lambda: iter(np.array_split(table, 4)))
    np.testing.assert_array_equal(rows_of(src.read(0)), table)
    np.testing.assert_array_equal(rows_of(src.read(0)), table)
    once = IterableSource(iter(np.array_split(table, 4)))
    list(once.read(0))
    with pytest.raises(DataError, match="can be read only once"):
        list(once.read(0))


def test_shuffle_buffer_gives_every_row_once_in_a_seeded_order(table):
    chunks = np.array_split(np.arange(1000)[:, None], 7)
    out = rows_of(shuffle_buffer(iter(chunks), 100, np.random.default_rng(0)))
    assert sorted(out[:, 0].tolist()) == list(range(1000)) and not np.array_equal(out[:, 0], np.arange(1000))
    again = rows_of(shuffle_buffer(iter(chunks), 100, np.random.default_rng(0)))
    np.testing.assert_array_equal(out, again)


@pytest.mark.parametrize("n, bs, sizes", [(10, 4, [4, 4, 2]), (9, 4, [4, 5]), (8, 4, [4, 4]), (1, 4, [1])])
def test_rebatch_folds_a_last_single_row_into_the_batch_before(n, bs, sizes):
    batches = list(rebatch(iter(np.array_split(np.arange(n)[:, None], 3)), bs))
    assert [len(b) for b in batches] == sizes and rows_of(batches)[:, 0].tolist() == list(range(n))


def test_ranks_share_an_epochs_order_and_split_its_units(tmp_path, table):
    src = open_source(write_folder(tmp_path / "pq", table))
    for epoch in range(2):
        parts = [src.epoch_units(epoch, seed=3, rank=r, world_size=2) for r in range(2)]
        assert sorted(parts[0] + parts[1]) == src.units() and not set(parts[0]) & set(parts[1])
    assert src.epoch_units(0, 3) != src.epoch_units(1, 3)  # reshuffled every epoch


def test_in_memory_batches_shard_like_distributed_sampler():
    from aekit.training.trainer import _Batches

    x = torch.arange(11, dtype=torch.float32)[:, None]
    seen = []
    for rank in range(2):
        batches = _Batches(x, x, 4, shuffle=True, rank=rank, world_size=2)
        state = TrainState(None, None, torch.Generator().manual_seed(0))
        seen.append(torch.cat([xb.clone() for xb, _ in batches.epoch(state)])[:, 0].tolist())
    assert len(seen[0]) == len(seen[1]) == 6 and set(seen[0]) | set(seen[1]) == set(range(11))


def test_validation_split_holds_out_units_not_copies(tmp_path, table):
    src = open_source(write_folder(tmp_path / "pq", table))
    train, val = src.split(0.34, seed=0)
    assert len(val.units()) == 2 and not set(train.units()) & set(val.units())
    assert train.n_rows + val.n_rows == 200


def test_a_resumed_stream_epoch_replays_the_same_batches(tmp_path, table):
    src = open_source(write_folder(tmp_path / "pq", table))
    batches = StreamBatches(src, 16, seed=5, buffer_rows=40)
    state = TrainState(None, None, torch.Generator())
    state.epoch = 1
    full = [xb.clone() for xb, _ in batches.epoch(state)]
    state.step = 5
    rest = [xb.clone() for xb, _ in batches.epoch(state)]
    assert len(rest) == len(full) - 5 and all(torch.equal(a, b) for a, b in zip(full[5:], rest))
    assert batches.state_dict(state)["step"] == 5


@pytest.mark.parametrize("kind", ["minmax", "standard"])
def test_streaming_statistics_give_the_in_memory_scaler(table, kind):
    stats = RunningStats()
    for chunk in ArraySource(table, unit_rows=33).chunks():
        stats.update(chunk)
    ours, theirs = Scaler.from_stats(kind, stats), Scaler.fit(kind, table)
    np.testing.assert_allclose(ours.offset, theirs.offset, rtol=1e-6)
    np.testing.assert_allclose(ours.factor, theirs.factor, rtol=1e-6)
    if kind == "minmax":
        assert np.array_equal(ours.offset, theirs.offset) and np.array_equal(ours.factor, theirs.factor)


def test_fit_on_a_parquet_folder_and_on_a_generator(tmp_path, table, one_thread):
    folder = write_folder(tmp_path / "pq", table)
    est = AutoEncoder(hidden=(8,), latent_dim=2, epochs=3, validation_split=0.2, random_state=0).fit(str(folder))
    assert len(est.history_["val_loss"]) == 3 and est.history_["loss"][-1] < est.history_["loss"][0]
    assert list(est.feature_names_in_) == [f"f{j}" for j in range(6)] and est.scaler_.kind == "minmax"
    np.testing.assert_array_equal(est.scaler_.offset, table.min(axis=0))
    assert est.transform(table).shape == (200, 2)
    gen = AutoEncoder(hidden=(8,), latent_dim=2, epochs=2, random_state=0).fit(
        lambda: iter(np.array_split(table, 5)))
    assert len(gen.history_["loss"]) == 2


def test_partial_fit_continues_the_optimizer(table, one_thread):
    est = AutoEncoder(hidden=(8,), latent_dim=2, random_state=0)
    for chunk in np.array_split(table, 4):
        est.partial_fit(chunk)
    state = est._partial_state
    assert len(est.history_["loss"]) == 4 and state.epoch == 4
    assert float(state.optimizer.steps[0]) == 4 * 1  # one batch of 50 rows per call, one Adam count


def test_cli_streams_a_parquet_folder_through_train_encode_reconstruct_and_detect(tmp_path, table, capsys):
    from aekit.cli import main

    folder = write_folder(tmp_path / "pq", table)
    np.save(tmp_path / "x.npy", table)
    run = tmp_path / "run"
    assert main(["train", str(folder), "--out", str(run), "--epochs", "2", "--hidden", "8", "--seed", "0",
                 "-q", "--validation-split", "0.2"]) == 0
    model = str(run / "model.safetensors")
    from aekit import load

    est = load(model)
    assert main(["encode", model, str(folder), "-o", str(tmp_path / "codes.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "codes.npy"), est.transform(table), atol=1e-6)
    assert main(["reconstruct", model, str(folder), "-o", str(tmp_path / "recon.parquet")]) == 0
    recon = pq.read_table(tmp_path / "recon.parquet")
    assert recon.column_names == [f"f{j}" for j in range(6)]
    np.testing.assert_allclose(np.column_stack([c.to_numpy() for c in recon.columns]), est.predict(table),
                               atol=1e-5)
    assert main(["fit-detector", str(tmp_path / "x.npy"), "-o", str(tmp_path / "det.safetensors"),
                 "--epochs", "2", "--seed", "0"]) == 0
    assert main(["detect", str(tmp_path / "det.safetensors"), str(folder), "-o", str(tmp_path / "s.csv")]) == 0
    assert main(["detect", str(tmp_path / "det.safetensors"), str(tmp_path / "x.npy"), "-o",
                 str(tmp_path / "m.csv")]) == 0
    import csv

    streamed, whole = (list(csv.reader(open(tmp_path / name))) for name in ("s.csv", "m.csv"))
    assert streamed[0] == whole[0] and len(streamed) == len(whole) == 201
    assert [r[0] for r in streamed] == [r[0] for r in whole]
    # the same scores, to float32 rounding (matrix products of other batch sizes differ in the last bits)
    np.testing.assert_allclose([float(r[1]) for r in streamed[1:]], [float(r[1]) for r in whole[1:]], rtol=1e-5)
