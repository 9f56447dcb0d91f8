"""The ensemble detector (applications/_ensemble.py, AnomalyDetector("ensemble")), its tails score, files; the default."""
import numpy as np
import pytest
import torch

import aekit
from aekit import AnomalyDetector
from aekit.applications._ensemble import DenseEnsemble, EnsembleConfig, fit_ensemble
from aekit.applications._members import AutoEncoderMembers, EnsembleMembers
from aekit.applications._tails import TailModel
from aekit.exceptions import ModelFileError
from aekit.training import TrainConfig, Trainer
from test_anomaly import normal_data  # six correlated features (pytest puts this folder on sys.path)


@pytest.fixture(scope="module")
def default_detector():
    return AnomalyDetector("ensemble", alpha=0.1, random_state=0).fit(normal_data(2000, 0))


# -- the ensemble module ----------------------------------------------------------------------------------
def test_members_see_their_own_features_and_reconstruct_all():
    model = DenseEnsemble(EnsembleConfig(n_features=10, n_members=4, feature_fraction=0.5, seed=0))
    assert model.feature_mask.shape == (4, 1, 10)
    assert torch.all(model.feature_mask.sum(dim=2) == 5)
    assert len({tuple(m.ravel().tolist()) for m in model.feature_mask}) > 1  # not all the same subset
    out = model(torch.randn(7, 10))
    assert out["logits"].shape == (4, 7, 10) and out["code"].shape[:2] == (4, 7)
    # a member ignores the features it does not see: changing one leaves its output unchanged
    unseen = int(torch.nonzero(model.feature_mask[0, 0] == 0)[0, 0])
    x = torch.randn(3, 10)
    x2 = x.clone()
    x2[:, unseen] += 5.0
    torch.testing.assert_close(model(x)["logits"][0], model(x2)["logits"][0])


def test_trimmed_loss_ignores_the_worst_samples():
    model = DenseEnsemble(EnsembleConfig(n_features=4, n_members=2, trim=0.25, seed=0))
    x = torch.zeros(8, 4)
    with torch.no_grad():
        out = model(x)
    far = x.clone()
    far[0] = 1000.0  # one sample in eight reconstructed terribly: inside the trimmed quarter
    base, _ = model.loss(out, x)
    assert float(model.loss(out, far)[0]) == pytest.approx(float(base), rel=1e-5)
    model.config.trim = 0.0
    assert float(model.loss(out, far)[0]) > 1000 * float(base)


def test_the_one_training_loop_trains_the_ensemble():
    X = normal_data(400, 0)
    model = DenseEnsemble(EnsembleConfig(n_features=6, n_members=3, seed=0))
    x = torch.from_numpy(X)
    with torch.no_grad():
        before = float(model.loss(model(x), x)[0])
    history = Trainer(TrainConfig(epochs=20, batch_size=64, learning_rate=1e-2, seed=0)).fit(model, x)
    # a member that sees half the features cannot rebuild the independent ones it does not see: a floor
    assert history["loss"][-1] < 0.75 * history["loss"][0]
    with torch.no_grad():
        assert float(model.loss(model(x), x)[0]) < 0.75 * before
    again = fit_ensemble(X, seed=3, n_members=3, steps=50)
    same = fit_ensemble(X, seed=3, n_members=3, steps=50)
    for a, b in zip(again.state_dict().values(), same.state_dict().values()):
        torch.testing.assert_close(a, b)  # seeded: the same fit twice


@pytest.mark.parametrize("bad, match", [({"n_members": 0}, "n_members must be a positive integer, got 0"),
                                        ({"feature_fraction": 0.0}, r"feature_fraction must be in \(0, 1\], got 0.0"),
                                        ({"trim": 0.5}, r"trim must be in \[0, 0.5\), got 0.5")])
def test_ensemble_config_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        EnsembleConfig(n_features=4, **bad)


# -- the tails score ---------------------------------------------------------------------------------------
def test_tails_are_ecod_counts_inside_the_training_range_and_fall_exponentially_beyond():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(50, 3))
    test = rng.uniform(train.min(0), train.max(0), size=(20, 3))  # inside the range of every column
    model = TailModel().fit(train)
    left, right = model.neg_log_tails(test)
    n = len(train)
    for j in range(3):  # exact counts below GRID samples (ties count on both sides)
        np.testing.assert_allclose(left[:, j], -np.log((train[:, j][None, :] <= test[:, j][:, None]).sum(1) / n))
        np.testing.assert_allclose(right[:, j], -np.log((train[:, j][None, :] >= test[:, j][:, None]).sum(1) / n))
    top = train.max(0)
    far = model.neg_log_tails(np.vstack([top + 1.0, top + 3.0]))[1]  # beyond the largest training value
    assert np.all(far[0] > np.log(n)) and np.all(far[1] > far[0])
    np.testing.assert_allclose(far[1] - far[0], 2.0 / model.stats["beta_right"])  # exponential: linear in -log


def test_tails_ignore_each_columns_scale_and_count_one_extreme_column_fully():
    rng = np.random.default_rng(1)
    train = rng.normal(size=(300, 4))
    test = np.vstack([np.zeros(4), [0, 0, 0, 8.0], [1.5, 1.5, 1.5, 1.5]])
    scores = TailModel().fit(train).score(test)
    stretched = TailModel().fit(train * [1, 100, 0.01, 7]).score(test * [1, 100, 0.01, 7])
    np.testing.assert_allclose(scores, stretched)
    assert scores[1] > scores[0] and scores[1] > 0.5 * scores[2]


# -- the default detector ----------------------------------------------------------------------------------
def test_ensemble_detector_is_sixteen_members_scored_by_tails(default_detector):
    det = default_detector
    assert isinstance(det.members_, EnsembleMembers) and det.autoencoder_ is None
    assert det.get_params()["autoencoder"] == "ensemble" and det._score_name() == "tails"
    assert det.members_.model.config.n_members == 16


def test_the_default_detector_is_one_sized_autoencoder_with_the_joint_score():
    det = AnomalyDetector(random_state=0).fit(normal_data(400, 0))
    assert isinstance(det.members_, AutoEncoderMembers) and det._score_name() == "joint"
    assert det.autoencoder_.latent_dim == max(2, 6 // 4) and det.autoencoder_.scaling == "standard"


def test_default_alpha_threshold_holds_on_fresh_normal_data(default_detector):
    X = normal_data(4000, 1)
    flagged = np.mean(default_detector.predict(X) == -1)
    assert flagged == pytest.approx(0.1, abs=0.03)
    p = default_detector.pvalues(X)
    np.testing.assert_array_equal(default_detector.predict(X) == -1, p <= 0.1)


def test_default_detector_ranks_broken_correlation_and_far_values_last(default_detector):
    # unremarkable values that break both correlations; the same values keeping them; one value far out
    X = np.array([[0, 0, 0, 0, 0, 0], [1.5, -1.5, 0, -1.5, 1.5, 0], [1.5, -1.5, 0, 1.5, -1.5, 0],
                  [0, 0, 7, 0, 0, 0]], dtype=np.float32)
    s = default_detector.score_samples(X)
    assert s[0] > s[2] > s[1] and s[0] > s[3]  # higher = more normal
    assert default_detector.predict(X).tolist() == [1, -1, 1, -1]
    top = default_detector.top_features(X[3:], k=1)
    assert top[0][0][0] == "x3"


def test_scores_once_pvalues_of_scores(default_detector):
    X = normal_data(100, 2)
    np.testing.assert_array_equal(default_detector.pvalues_of_scores(-default_detector.score_samples(X)),
                                  default_detector.pvalues(X))


def test_default_detector_file_round_trip(default_detector, tmp_path):
    path = default_detector.save(tmp_path / "detector.safetensors")
    loaded = aekit.load(path)
    X = normal_data(300, 4)
    np.testing.assert_allclose(loaded.score_samples(X), default_detector.score_samples(X), rtol=1e-6)
    np.testing.assert_array_equal(loaded.pvalues(X), default_detector.pvalues(X))
    np.testing.assert_allclose(loaded.explain(X), default_detector.explain(X), rtol=1e-6)
    assert loaded.threshold_ == default_detector.threshold_ and loaded.get_params()["autoencoder"] == "ensemble"


def test_an_old_detector_file_is_refused_with_a_clear_message(default_detector, tmp_path):
    from aekit import persistence

    path = default_detector.save(tmp_path / "new.safetensors")
    tensors, config = persistence.load_bundle(path)
    del config["detector_format"]  # what files written before the ensemble look like
    persistence.save_bundle(tmp_path / "old.safetensors", tensors, config)
    with pytest.raises(ModelFileError, match="layout 1 .*before the ensemble detector.*Refit it: aekit fit-detector"):
        aekit.load(tmp_path / "old.safetensors")


def test_cli_fit_detector_default_then_detect_scores_once(tmp_path, capsys):
    import csv

    from aekit.cli import main

    X = normal_data(600, 5)
    new = np.vstack([normal_data(9, 6), [[1.5, -1.5, 0, -1.5, 1.5, 0]]])  # the last breaks both correlations
    header = "a,b,c,d,e,f"
    np.savetxt(tmp_path / "train.csv", X, delimiter=",", header=header, comments="")
    np.savetxt(tmp_path / "new.csv", new, delimiter=",", header=header, comments="")
    det_path = tmp_path / "det.safetensors"
    assert main(["fit-detector", str(tmp_path / "train.csv"), "-o", str(det_path), "--alpha", "0.1",
                 "--seed", "0"]) == 0
    det = aekit.load(det_path)
    assert isinstance(det.members_, AutoEncoderMembers) and list(det.feature_names_in_) == list("abcdef")
    assert main(["detect", str(det_path), str(tmp_path / "new.csv"), "-o", str(tmp_path / "s.csv")]) == 0
    capsys.readouterr()
    with open(tmp_path / "s.csv") as f:
        rows = list(csv.DictReader(f))
    want = det.pvalues(new.astype(np.float32))
    np.testing.assert_allclose([float(r["pvalue"]) for r in rows], want, rtol=1e-6)
    assert rows[-1]["label"] == "-1" and rows[-1]["top_features"].split(" (")[0] in list("abde")
