"""AutoEncoder: fitting, the scikit-learn contract, and numbers from real (tiny, seeded) training."""
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from aekit import AutoEncoder, DataError, NotFittedError

FAST = dict(hidden=(16,), epochs=3, batch_size=64, random_state=0)


# Rows computed in float32 by a blocked GEMM may differ in the last bit (~2e-7) when their order in the
# batch changes; these two checks demand rtol=1e-7, which float32 cannot promise.
FLOAT32_ORDER_CHECKS = {
    "check_methods_sample_order_invariance": "float32 GEMM: last-bit differences when rows are reordered",
    "check_methods_subset_invariance": "float32 GEMM: last-bit differences when rows are batched differently",
}


@parametrize_with_checks([AutoEncoder(hidden=(4,), epochs=1, random_state=0)],
                         expected_failed_checks=lambda est: FLOAT32_ORDER_CHECKS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_fit_returns_self_and_sets_learned_state(small_digits):
    X, _ = small_digits
    est = AutoEncoder(**FAST)
    assert est.fit(X) is est
    assert est.n_features_in_ == 64
    assert est.input_shape_ == (64,)
    assert set(est.history_) >= {"loss", "seconds", "reconstruction", "code_activation"}
    assert len(est.history_["loss"]) == 3
    assert isinstance(est.encoder_, torch.nn.Module) and isinstance(est.decoder_, torch.nn.Module)


def test_shapes_of_every_method(small_digits):
    X, _ = small_digits
    est = AutoEncoder(latent_dim=3, **FAST).fit(X)
    codes = est.transform(X[:7])
    assert codes.shape == (7, 3) and codes.dtype == np.float32
    assert est.inverse_transform(codes).shape == (7, 64)
    assert est.predict(X[:7]).shape == (7, 64)
    assert est.score_samples(X[:7]).shape == (7,)
    assert est.reconstruction_error(X[:7]).shape == (7,)
    assert est.reconstruction_error(X[:7], per_feature=True).shape == (7, 64)
    np.testing.assert_allclose(est.score_samples(X[:7]), -est.reconstruction_error(X[:7]), rtol=1e-5)
    np.testing.assert_allclose(est.inverse_transform(codes), est.predict(X[:7]), rtol=1e-4, atol=1e-5)


def test_training_lowers_the_loss(small_digits):
    X, _ = small_digits
    est = AutoEncoder(hidden=(32,), latent_dim=8, epochs=15, batch_size=32, random_state=0).fit(X)
    assert est.history_["loss"][-1] < 0.8 * est.history_["loss"][0]


def test_same_seed_same_model_and_global_rng_untouched(small_digits):
    X, _ = small_digits
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = AutoEncoder(**FAST).fit(X)
    after = torch.rand(1)
    b = AutoEncoder(**FAST).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert before.item() == after.item()  # fit did not consume torch's global generator


@pytest.mark.parametrize("n", [1, 2, 3])
def test_fits_any_number_of_samples(small_digits, n):
    X, _ = small_digits
    est = AutoEncoder(batch_size=256, hidden=(4,), epochs=2, random_state=0, validation_split=0.5).fit(X[:n])
    assert len(est.history_["loss"]) == 2 and np.isfinite(est.history_["loss"]).all()


def test_linear_autoencoder_matches_pca(digits):
    """hidden=() with linear activations spans PCA's subspace: MSE within 5% of PCA's."""
    X, _ = digits
    k = 8
    pca = PCA(k).fit(X)
    pca_mse = float(((pca.inverse_transform(pca.transform(X)) - X) ** 2).mean())
    lin = AutoEncoder(latent_dim=k, hidden=(), activation="linear", output_activation="linear", scaling=None,
                      epochs=60, batch_size=128, learning_rate=1e-2, random_state=0).fit(X)
    ae_mse = float(lin.reconstruction_error(X).mean())
    assert ae_mse <= 1.05 * pca_mse, (ae_mse, pca_mse)


def test_fit_input_to_target(small_digits):
    X, _ = small_digits
    rng = np.random.default_rng(0)
    noisy = np.clip(X + 0.3 * rng.normal(size=X.shape), 0, 1).astype(np.float32)
    est = AutoEncoder(hidden=(32,), latent_dim=8, epochs=40, batch_size=32, random_state=0).fit(noisy, X)
    # trained to output the clean images: closer to X than to its noisy input
    out = est.predict(noisy)
    assert ((out - X) ** 2).mean() < ((out - noisy) ** 2).mean()


def test_labels_in_a_pipeline_are_ignored(small_digits):
    X, y = small_digits
    pipe = make_pipeline(AutoEncoder(latent_dim=4, **FAST), LogisticRegression(max_iter=200)).fit(X, y)
    assert pipe.score(X, y) > 0.2


def test_validation_data_and_early_stopping_restore_best(small_digits):
    X, _ = small_digits
    est = AutoEncoder(hidden=(16,), epochs=200, batch_size=32, learning_rate=0.05, validation_data=X[:50],
                      early_stopping=3, random_state=0).fit(X[50:])
    h = est.history_
    assert len(h["val_loss"]) < 200
    best = h["best_epoch"]
    assert h["val_loss"][best] == min(h["val_loss"])
    val_now = float(np.mean(-est.score_samples(X[:50])))  # MSE, not the BCE of val_loss: just check finite
    assert np.isfinite(val_now)


def test_auto_output_and_scaling(small_digits):
    X, _ = small_digits
    est = AutoEncoder(**FAST).fit(X * 100 - 7)  # outside [0, 1]: min-max scaled, then sigmoid + bce
    assert est.scaler_.kind == "minmax" and est.model_.config.loss == "bce"
    assert est.predict(X[:3] * 100 - 7).max() > 1.5  # back in the data's own units
    std = AutoEncoder(scaling="standard", **FAST).fit(X)
    assert std.model_.config.output_activation == "linear" and std.model_.config.loss == "mse"
    assert AutoEncoder(**FAST).fit(X).scaler_.kind is None  # already in [0, 1]


def test_clone_keeps_params_and_drops_state(small_digits):
    X, _ = small_digits
    est = AutoEncoder(latent_dim=5, hidden=(12, 6), **{k: v for k, v in FAST.items() if k != "hidden"}).fit(X)
    c = clone(est)
    assert c.get_params()["hidden"] == (12, 6) and not hasattr(c, "model_")


# -- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "X, exc, match",
    [
        (np.array([[0.1, np.nan], [0.2, 0.3]]), DataError, "contains NaN"),
        (np.array([[0.1, np.inf], [0.2, 0.3]]), DataError, "contains infinity"),
        (np.zeros(5), DataError, "Expected 2D array for X, got 1D array instead; Reshape your data"),
        (np.zeros((3, 4, 4)), DataError, "got 3D array instead.*kind='conv'"),
        (np.zeros((0, 4)), DataError, "is empty"),
        (np.array([["a", "b"], ["c", "d"]]), DataError, "non-numeric"),
    ],
)
def test_bad_input_is_refused_clearly(X, exc, match):
    with pytest.raises(exc, match=match):
        AutoEncoder(**FAST).fit(X)


def test_non_numeric_dataframe_column_is_named():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [0.1, 0.2], "city": ["Paris", "Rome"]})
    with pytest.raises(DataError, match="column 'city' of X is not numeric"):
        AutoEncoder(**FAST).fit(df)


def test_feature_count_mismatch(small_digits):
    X, _ = small_digits
    est = AutoEncoder(**FAST).fit(X)
    with pytest.raises(DataError, match="X has 7 features, but AutoEncoder is expecting 64 features as input"):
        est.transform(X[:, :7])


def test_sigmoid_output_needs_unit_range_without_scaling():
    X = np.linspace(-3, 3, 40, dtype=np.float32).reshape(20, 2)
    with pytest.raises(DataError, match=r"output_activation='sigmoid' only produces values in \[0, 1\]"):
        AutoEncoder(scaling=None, output_activation="sigmoid", **FAST).fit(X)


def test_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        AutoEncoder().transform(np.zeros((2, 3)))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"kind": "nope"}, r"The 'kind' parameter of AutoEncoder must be a str among \{.*'dense'.*\}. Got 'nope' instead."),
        ({"activation": "swishy"}, "The 'activation' parameter of AutoEncoder must be a str among .* Got 'swishy'"),
        ({"epochs": 0}, r"The 'epochs' parameter of AutoEncoder must be an int in the range \[1, inf\) or a str among {'auto'}. Got 0 instead."),
        ({"optimizer": "lbfgs"}, "The 'optimizer' parameter of AutoEncoder must be a str among"),
        ({"scaling": "robust"}, "The 'scaling' parameter of AutoEncoder must be a str among .* or None. Got 'robust'"),
        ({"validation_split": 1.5}, r"The 'validation_split' parameter of AutoEncoder must be a float in the range \[0, 1\)"),
        ({"loss": "bce", "output_activation": "linear", "scaling": "standard"}, "loss='bce' needs output_activation='sigmoid'"),
    ],
)
def test_bad_parameters_are_refused_clearly(small_digits, params, match):
    X, _ = small_digits
    with pytest.raises(ValueError, match=match):
        AutoEncoder(**{**FAST, **params}).fit(X)


def test_nan_loss_names_epoch_and_batch(small_digits):
    from aekit import TrainingError

    X, _ = small_digits
    with pytest.raises(TrainingError, match=r"the loss became (nan|inf) at epoch \d+, batch \d+; lower learning_rate"):
        AutoEncoder(hidden=(16,), epochs=3, scaling=None, output_activation="linear", loss="mse",
                    learning_rate=1e6, optimizer="sgd", random_state=0).fit(X * 1e3)
