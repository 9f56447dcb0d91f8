"""ONNX and TorchScript exports give what transform / predict / score_samples give, the scaler folded in."""
import numpy as np
import pytest
import torch

import aekit
from aekit import AnomalyDetector, AutoEncoder
from aekit.cli import main
from aekit.export import export

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

FAST = dict(hidden=(8,), latent_dim=3, epochs=2, batch_size=64, random_state=0)


def assert_matches(est, X, code, recon, score):
    np.testing.assert_allclose(code, est.transform(X), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(recon, est.predict(X), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(score, est.score_samples(X), rtol=1e-4, atol=1e-4)


def run_onnx(path, X):
    session = ort.InferenceSession(str(path))
    assert [o.name for o in session.get_outputs()] == ["code", "reconstruction", "score"]
    return session.run(None, {"x": X.astype(np.float32)})


@pytest.mark.parametrize("params", [dict(scaling="standard"), dict(kind="vae")], ids=["dense-standard", "vae"])
def test_onnx_matches_the_estimator(small_digits, tmp_path, params, one_thread):
    X, _ = small_digits
    X = X * 16  # raw pixel counts: the model's scaler does the work, and the graph must too
    est = AutoEncoder(**FAST, **params).fit(X)
    path = export(est, tmp_path / "model.onnx")
    assert_matches(est, X[:37], *run_onnx(path, X[:37]))  # a batch size the export never saw


@pytest.mark.parametrize("params", [dict(scaling="minmax"), dict(kind="conv", filters=(4,), hidden=())],
                         ids=["dense-minmax", "conv"])
def test_torchscript_matches_the_estimator(small_digits, tmp_path, params, one_thread):
    X, _ = small_digits
    if params.get("kind") == "conv":
        X = X.reshape(-1, 1, 8, 8)
    est = AutoEncoder(**{**FAST, **params}).fit(X)
    path = export(est, tmp_path / "model.pt")
    scripted = torch.jit.load(str(path))
    outputs = [t.numpy() for t in scripted(torch.from_numpy(X[:9]))]
    assert_matches(est, X[:9], *outputs)


def test_cli_export(small_digits, tmp_path, capsys, one_thread):
    X, _ = small_digits
    det = AnomalyDetector(AutoEncoder(**FAST), random_state=0).fit(X)
    model = det.save(tmp_path / "det.safetensors")
    out = tmp_path / "det.onnx"
    assert main(["export", str(model), "-o", str(out)]) == 0
    assert f"wrote {out} (its autoencoder)" in capsys.readouterr().out
    assert_matches(aekit.load(model).autoencoder_, X[:5], *run_onnx(out, X[:5]))
    assert main(["export", str(model), "-o", str(out)]) == 2
    assert "already exists; pass overwrite=True (CLI: --force)" in capsys.readouterr().err
    assert main(["export", str(model), "-o", str(tmp_path / "model.h5")]) == 2
    assert "give a .onnx path (ONNX) or a .pt / .ts path" in capsys.readouterr().err


def test_export_needs_a_fitted_model(tmp_path):
    with pytest.raises(aekit.NotFittedError, match="not fitted yet"):
        export(AutoEncoder(), tmp_path / "m.onnx")


class LinearEncoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(64, 2)

    def forward(self, x):
        return self.net(x)


class LinearDecoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(2, 64)

    def forward(self, z):
        return self.net(z)


def test_cli_export_of_own_modules_needs_trust(small_digits, tmp_path, capsys, one_thread):
    X, _ = small_digits
    est = AutoEncoder(encoder=LinearEncoder(), decoder=LinearDecoder(), epochs=1, random_state=0).fit(X)
    model = est.save(tmp_path / "own.safetensors")
    out = tmp_path / "own.pt"
    assert main(["export", str(model), "-o", str(out)]) == 2
    assert "trust_classes=['test_export']" in capsys.readouterr().err and not out.exists()
    assert main(["export", str(model), "-o", str(out), "--trust-classes", "test_export"]) == 0
    assert_matches(est, X[:6], *(t.numpy() for t in torch.jit.load(str(out))(torch.from_numpy(X[:6]))))
