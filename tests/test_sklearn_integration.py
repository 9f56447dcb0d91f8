"""AutoEncoder and AnomalyDetector inside scikit-learn's tools, and PyOD's names on the detector."""
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import aekit
from aekit import AnomalyDetector, AutoEncoder, NotFittedError
from aekit.data.scaling import is_standardised, resolve_scaling

FAST = dict(hidden=(8,), epochs=2, batch_size=64, random_state=0)


def test_grid_search_needs_no_scoring(small_digits, one_thread):
    X, _ = small_digits
    search = GridSearchCV(AutoEncoder(**FAST), {"latent_dim": [1, 8]}, cv=2).fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and np.all(scores < 0)  # minus a reconstruction error
    assert search.best_params_ == {"latent_dim": 8}  # a wider code reconstructs better
    est = search.best_estimator_
    assert est.score(X) == pytest.approx(float(np.mean(est.score_samples(X))))


def test_feature_names_and_pandas_output(small_digits, one_thread):
    X, _ = small_digits
    df = pd.DataFrame(X[:, :12], columns=[f"p{i}" for i in range(12)], index=np.arange(100, 300))
    est = AutoEncoder(latent_dim=3, **FAST).set_output(transform="pandas")
    codes = est.fit_transform(df)
    assert list(codes.columns) == ["autoencoder0", "autoencoder1", "autoencoder2"]
    assert list(codes.index) == list(df.index)
    np.testing.assert_allclose(codes.to_numpy(), AutoEncoder(latent_dim=3, **FAST).fit(df).transform(df), rtol=1e-6)
    ct = ColumnTransformer([("ae", AutoEncoder(latent_dim=2, **FAST), list(df.columns[:8])),
                            ("keep", "passthrough", ["p8"])]).set_output(transform="pandas")
    out = ct.fit_transform(df)
    assert list(out.columns) == ["ae__autoencoder0", "ae__autoencoder1", "keep__p8"]
    with pytest.raises(ValueError, match="input_features is not equal to feature_names_in_"):
        est.get_feature_names_out(["a"] * 12)


def test_feature_names_need_a_fitted_model():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        AutoEncoder().get_feature_names_out()


def test_pipeline_with_standard_scaler_trains_a_linear_mse_model(small_digits, one_thread):
    X, _ = small_digits
    pipe = Pipeline([("scale", StandardScaler()), ("ae", AutoEncoder(**FAST))]).fit(X * 16)
    ae = pipe.named_steps["ae"]
    # no second (min-max) scaling, so no sigmoid/BCE on squeezed z-scores
    assert ae.scaler_.kind is None
    assert (ae.model_.config.output_activation, ae.model_.config.loss) == ("linear", "mse")
    Z = pipe.named_steps["scale"].transform(X * 16)
    assert np.isfinite(pipe.score(X * 16)) and ae.predict(Z).min() < -0.5  # reconstructions in z-score units


def test_auto_scaling_rules():
    rng = np.random.default_rng(0)
    raw = rng.normal(5.0, 3.0, size=(200, 4))
    standardised = StandardScaler().fit_transform(np.column_stack([raw, np.zeros(200)])).astype(np.float32)
    assert is_standardised(standardised) and resolve_scaling("auto", standardised) is None
    assert not is_standardised(raw) and resolve_scaling("auto", raw) == "minmax"
    assert not is_standardised(standardised[:, :4] * 2)
    assert resolve_scaling("auto", rng.uniform(size=(50, 3))) is None  # already in [0, 1]


@pytest.fixture(scope="module")
def pyod_detector():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    X[:, 3] = X[:, 0] + 0.05 * rng.normal(size=300)
    ae = AutoEncoder(latent_dim=2, hidden=(8,), epochs=5, batch_size=32, scaling="standard", random_state=0)
    return AnomalyDetector(ae, contamination=0.1, random_state=0).fit(X), X


def test_pyod_attributes(pyod_detector, one_thread):
    det, X = pyod_detector
    assert det.decision_scores_.shape == (300,)
    np.testing.assert_allclose(det.decision_scores_, -det.score_samples(X), rtol=1e-5)
    assert det.threshold_ == -det.offset_  # PyOD's sign: anomaly scores above it are outliers
    assert set(np.unique(det.labels_)) == {0, 1}
    assert det.labels_.mean() == pytest.approx(0.1, abs=0.01)
    np.testing.assert_array_equal(det.labels_, (det.predict(X) == -1).astype(int))  # OutlierMixin's view
    assert set(np.unique(det.fit_predict(X))) == {-1, 1}


@pytest.mark.parametrize("method", ["linear", "unify"])
def test_pyod_predict_proba(pyod_detector, method):
    det, X = pyod_detector
    proba = det.predict_proba(X, method=method)
    assert proba.shape == (300, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba.min() >= 0 and proba.max() <= 1
    order = np.argsort(det.decision_scores_)
    assert np.all(np.diff(proba[order, 1]) >= -1e-9)  # the outlier column grows with the anomaly score
    assert proba[det.labels_ == 1, 1].mean() > proba[det.labels_ == 0, 1].mean()


def test_predict_proba_rejects_unknown_method(pyod_detector):
    with pytest.raises(ValueError, match="method must be 'linear' or 'unify'"):
        pyod_detector[0].predict_proba(pyod_detector[1], method="softmax")


def test_pyod_attributes_survive_save_and_load(pyod_detector, tmp_path):
    det, X = pyod_detector
    loaded = aekit.load(det.save(tmp_path / "det.safetensors"))
    np.testing.assert_array_equal(loaded.decision_scores_, det.decision_scores_)
    np.testing.assert_array_equal(loaded.labels_, det.labels_)
    assert loaded.threshold_ == det.threshold_ and loaded.offset_ == det.offset_


def test_integration_doc_runs(tmp_path, monkeypatch, one_thread):
    """Every Python block of docs/integration.md, in order, in one namespace (a module, so that the classes
    it defines can be imported back by path when the model file is loaded)."""
    import re
    import sys
    import types
    from pathlib import Path

    pytest.importorskip("onnxruntime")
    pytest.importorskip("mlflow")
    doc = Path(__file__).resolve().parents[1] / "docs" / "integration.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)
    assert len(blocks) >= 8
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # restored afterwards, though the doc sets it too
    module = types.ModuleType("integration_doc")
    monkeypatch.setitem(sys.modules, "integration_doc", module)
    for i, code in enumerate(blocks):
        exec(compile(code, f"docs/integration.md block {i + 1}", "exec"), module.__dict__)
    assert {"own.safetensors", "model.onnx", "model.pt", "tb", "mlruns"} <= {p.name for p in tmp_path.iterdir()}
