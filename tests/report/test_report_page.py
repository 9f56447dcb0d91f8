"""What the report computes and the page it writes (no browser needed)."""
import base64
import re
import sys

import numpy as np
import pytest

from aekit.report import collect, explorer_html, is_variational, project
from aekit.report.explorer import payload

SECTIONS = ["settings", "data", "loss", "reconstructions", "latent", "errors", "worst", "pca"]


def test_page_is_self_contained_and_has_every_section(tiny_report):
    html = tiny_report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    for section in SECTIONS:
        assert f'<section id="{section}">' in html
    # nothing is fetched: no external scripts, styles or images
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "https://" not in html and "http://" not in html
    assert html.count('<img src="data:image/png;base64,') >= 6
    assert "aekitExplorers" in html  # the bundled explorer script is inlined
    assert 'alt="scatter of the codes"' not in html  # the scatter is shown once: by the explorer


def test_collect_shapes_and_subset(tiny):
    est, X, y = tiny
    c = collect(est, X, y, max_points=50, random_state=0)
    assert c.X.shape == (50, 64) and c.codes.shape == (50, 2) and c.coords.shape == (50, 2)
    assert c.errors.shape == (50,) and len(set(c.index)) == 50
    np.testing.assert_allclose(c.errors, est.reconstruction_error(X[c.index]), rtol=1e-6)
    assert c.label_names == [str(v) for v in np.unique(y[c.index])]
    assert c.axis_labels == ("code 1", "code 2")
    assert dict(c.data)["evaluation data"] == "200 samples (50 random ones evaluated)"


def test_projection_of_larger_codes_is_labelled():
    codes = np.random.default_rng(0).normal(size=(40, 5))
    coords, labels, note, to_latent = project(codes)
    assert coords.shape == (40, 2) and labels[0] == "PC 1 of the codes"
    assert note.startswith("a 2-D PCA projection of the 5-D codes")
    assert to_latent(coords[:3]).shape == (3, 5)
    coords, labels, _, _ = project(codes[:, :1])
    assert labels == ("code 1", "(1-D code)") and np.all(coords[:, 1] == 0)


def test_explorer_payload_for_images(tiny):
    est, X, y = tiny
    c = collect(est, X, y, image_shape=(8, 8))
    d = payload(c, max_thumbnails=150)
    assert d["n"] == 200 and d["grid"] is None  # a plain autoencoder gets no decoded grid by default
    assert d["sprite"]["count"] == 150 and (d["sprite"]["w"], d["sprite"]["h"]) == (8, 8)
    assert d["sprite"]["src"].startswith("data:image/png;base64,")
    xs = np.frombuffer(base64.b64decode(d["x"]), dtype=np.float32)
    np.testing.assert_allclose(xs, c.coords[:, 0], rtol=1e-6)
    assert "The first 150 points" in d["note"]
    grid = payload(c, decode_grid=True, grid_size=5)["grid"]
    assert grid["size"] == 5 and grid["sprite"]["count"] == 25


def test_explorer_payload_for_tables(tiny_table):
    est, X, names = tiny_table
    c = collect(est, X, feature_names=names)
    d = payload(c, decode_grid=True, grid_size=4)
    assert d["sprite"] is None and d["table"]["names"] == names and d["table"]["count"] == 120
    values = np.frombuffer(base64.b64decode(d["table"]["values"]), dtype=np.float32).reshape(120, 6)
    np.testing.assert_allclose(values, c.X)
    assert d["grid"]["table"]["count"] == 16
    assert d["axis"] == ["PC 1 of the codes", "PC 2 of the codes"]


def test_json_cannot_close_its_script_tag(tiny_table):
    est, X, _ = tiny_table
    c = collect(est, X, feature_names=["</script><b>"] * 6)
    html = explorer_html(c)
    assert "</script><b>" not in html


class _Detector:
    """A stand-in for aekit.AnomalyDetector: flags the 10% largest reconstruction errors."""

    def __init__(self, est, X, on_score_scale):
        self.est = est
        err = est.reconstruction_error(X)
        self._t = float(np.quantile(err, 0.9))
        self.threshold_ = -self._t if on_score_scale else self._t

    def score_samples(self, X):
        return -self.est.reconstruction_error(X)

    def predict(self, X):
        return np.where(self.est.reconstruction_error(X) > self._t, -1, 1)


@pytest.mark.parametrize("on_score_scale", [False, True])
def test_detector_threshold_on_either_scale(tiny, on_score_scale):
    est, X, y = tiny
    det = _Detector(est, X, on_score_scale)
    c = collect(est, X, y, detector=det)
    assert c.threshold == pytest.approx(det._t)
    assert np.mean(c.scores > c.threshold) == pytest.approx(0.1, abs=0.01)
    assert "_Detector with threshold_" in c.detector_note


def test_pca_fallback_without_the_reduction_module(tiny, monkeypatch):
    est, X, y = tiny
    monkeypatch.setitem(sys.modules, "aekit.applications.reduction", None)  # import now raises ImportError
    c = collect(est, X, y, X_train=X)
    assert [r["method"] for r in c.pca_rows] == ["autoencoder", "pca"]
    assert all(r["trustworthiness"] is None for r in c.pca_rows)
    from sklearn.decomposition import PCA

    pca = PCA(2).fit(X)
    expected = np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)
    assert c.pca_rows[1]["reconstruction_mse"] == pytest.approx(expected, rel=1e-4)
    assert "not installed" in c.pca_note


def test_variational_models_get_the_decoded_grid():
    from aekit import AutoEncoder

    X = np.random.default_rng(0).random((60, 8), dtype=np.float32)
    vae = AutoEncoder(kind="vae", latent_dim=2, hidden=(8,), epochs=1, random_state=0).fit(X)
    assert is_variational(vae)
    d = payload(collect(vae, X))
    assert d["grid"]["size"] == 20 and "decoded when this report was written" in d["note"]


def test_latent_section_without_explorer(tiny):
    from aekit.report.sections import latent

    est, X, y = tiny
    section = latent(collect(est, X, y), explorer=False, options={})
    assert "<img" in section.body and "aekitExplorers" not in section.body


def test_with_aekit_anomaly_detector(tiny, tmp_path):
    from aekit import AnomalyDetector, AutoEncoder, load
    from aekit.report.run import split_detector

    est, X, y = tiny
    det = AnomalyDetector(AutoEncoder(latent_dim=2, hidden=(8,), epochs=1, random_state=0), contamination=0.1,
                          random_state=0).fit(X)
    det.save(tmp_path / "detector.safetensors")
    ae, loaded = split_detector(load(tmp_path / "detector.safetensors"))
    assert loaded is not None and ae is loaded.autoencoder_
    c = collect(ae, X, y, detector=loaded)
    flagged = loaded.predict(X[c.index]) == -1
    assert c.threshold is not None
    np.testing.assert_array_equal(c.scores > c.threshold, flagged)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"X": np.zeros((0, 64), np.float32)}, "DataError", "X has no samples"),
    ({"y": [0, 1, 2]}, "ValueError", r"y has 3 labels, but X has 200 samples"),
    ({"max_points": 0}, "ValueError", "max_points must be a positive integer, got 0"),
])
def test_bad_input(tiny, kwargs, error, match):
    import aekit

    est, X, y = tiny
    args = {"X": X, "y": None, **kwargs}
    with pytest.raises(getattr(aekit, error, ValueError), match=match):
        collect(est, args.pop("X"), args.pop("y"), **args)
