"""aekit fit-detector / detect / denoise / compress / decompress / encode --compare, really run."""
import csv

import numpy as np
import pytest

import aekit
from aekit import AutoEncoder
from aekit.cli import main


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def files(tmp_path_factory, small_digits):
    d = tmp_path_factory.mktemp("apps")
    X, y = small_digits
    rng = np.random.default_rng(0)
    table = rng.normal(size=(400, 4))
    table[:, 2] = table[:, 0] + 0.1 * table[:, 2]
    lines = ["alpha,beta,gamma,delta"] + [",".join(f"{v:.5f}" for v in row) for row in table]
    test = np.vstack([table[:20], [[0, 0, 6, 0]]])  # the last row breaks gamma = alpha
    (d / "train.csv").write_text("\n".join(lines) + "\n")
    (d / "test.csv").write_text("\n".join(lines[:1] + [",".join(f"{v:.5f}" for v in r) for r in test]) + "\n")
    np.save(d / "images.npy", X[:12].reshape(-1, 8, 8))
    np.save(d / "flat.npy", X[:12])
    np.savez(d / "digits.npz", X=X, y=y)
    ae = AutoEncoder(latent_dim=8, hidden=(32,), noise="gaussian", noise_factor=0.2, epochs=15, batch_size=32,
                     random_state=0).fit(X)
    ae.save(d / "ae.safetensors")
    return d


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_fit_detector_then_detect(files, capsys):
    det_path = files / "detector.safetensors"
    assert main(["fit-detector", str(files / "train.csv"), "-o", str(det_path), "--alpha", "0.1", "--seed", "0",
                 "--epochs", "10", "--hidden", "8", "--latent", "2"]) == 0
    assert "wrote" in capsys.readouterr().out
    det = aekit.load(det_path)
    assert det.alpha == 0.1 and det.autoencoder_.epochs == 10 and det.autoencoder_.scaling == "standard"
    assert list(det.feature_names_in_) == ["alpha", "beta", "gamma", "delta"]
    out = files / "scores.csv"
    assert main(["detect", str(det_path), str(files / "test.csv"), "-o", str(out), "--top", "2"]) == 0
    assert "flagged" in capsys.readouterr().out
    rows = read_csv(out)
    assert list(rows[0]) == ["sample", "anomaly_score", "pvalue", "label", "top_features"]
    assert len(rows) == 21
    last = rows[-1]
    assert last["label"] == "-1" and float(last["pvalue"]) <= 0.1
    assert last["top_features"].split(";")[0].split(" (")[0] in ("gamma", "alpha")
    for row in rows:
        assert (row["top_features"] == "") == (row["label"] == "1")


def test_detect_refuses_a_plain_autoencoder(files, capsys):
    code = main(["detect", str(files / "ae.safetensors"), str(files / "flat.npy"), "-o", str(files / "s.csv")])
    assert code == 2
    assert "holds an AutoEncoder, but aekit detect needs an AnomalyDetector; make one with aekit fit-detector" in capsys.readouterr().err


def test_fit_detector_refuses_to_overwrite(files, capsys):
    (files / "exists.safetensors").write_bytes(b"x")
    code = main(["fit-detector", str(files / "train.csv"), "-o", str(files / "exists.safetensors")])
    assert code == 2
    assert "already exists; pass --force" in capsys.readouterr().err


def test_denoise_npy_with_added_noise_and_grid(files, capsys):
    out, grid = files / "denoised.npy", files / "grid.png"
    assert main(["denoise", str(files / "ae.safetensors"), str(files / "images.npy"), "-o", str(out),
                 "--add-noise", "0.2", "--grid", str(grid), "-n", "6"]) == 0
    text = capsys.readouterr().out
    assert "PSNR  noisy" in text and "SSIM  noisy" in text
    assert np.load(out).shape == (12, 8, 8)
    assert grid.stat().st_size > 0


def test_denoise_png_folders_keep_names(files, capsys):
    from aekit.data.images import write_images

    noisy_dir, clean_dir, out_dir = files / "noisy", files / "clean", files / "out"
    clean = np.load(files / "images.npy")
    write_images(clean_dir, clean, names=[f"d{i}.png" for i in range(12)])
    write_images(noisy_dir, np.clip(clean + 0.2, 0, 1), names=[f"d{i}.png" for i in range(12)])
    assert main(["denoise", str(files / "ae.safetensors"), str(noisy_dir), "-o", str(out_dir),
                 "--clean", str(clean_dir)]) == 0
    assert "PSNR" in capsys.readouterr().out
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(f"d{i}.png" for i in range(12))


def test_denoise_errors(files, capsys):
    code = main(["denoise", str(files / "ae.safetensors"), str(files / "images.npy"), "-o", str(files / "x.npy"),
                 "--add-noise", "0.2", "--clean", str(files / "images.npy")])
    assert code == 2 and "give either --clean or --add-noise, not both" in capsys.readouterr().err
    np.save(files / "wrong.npy", np.zeros((3, 5, 5)))
    code = main(["denoise", str(files / "ae.safetensors"), str(files / "wrong.npy"), "-o", str(files / "x.npy")])
    assert code == 2 and "but the model takes samples of shape (64,)" in capsys.readouterr().err


def test_compress_decompress_round_trip(files, capsys):
    aez, out = files / "data.aez", files / "restored.npy"
    assert main(["compress", str(files / "ae.safetensors"), str(files / "flat.npy"), "-o", str(aez),
                 "--bits", "6"]) == 0
    text = capsys.readouterr().out
    assert "bytes/sample" in text and "ratio to raw" in text and "PSNR" in text
    assert main(["decompress", str(files / "ae.safetensors"), str(aez), "-o", str(out)]) == 0
    restored = np.load(out)
    assert restored.shape == (12, 64)
    est = aekit.load(files / "ae.safetensors")
    assert np.abs(restored - est.predict(np.load(files / "flat.npy"))).max() < 0.2


def test_decompress_refuses_corrupt_and_foreign_files(files, tmp_path, capsys):
    aez = tmp_path / "d.aez"
    assert main(["compress", str(files / "ae.safetensors"), str(files / "flat.npy"), "-o", str(aez)]) == 0
    capsys.readouterr()
    blob = bytearray(aez.read_bytes())
    blob[-3] ^= 0x55
    (tmp_path / "bad.aez").write_bytes(bytes(blob))
    assert main(["decompress", str(files / "ae.safetensors"), str(tmp_path / "bad.aez"), "-o",
                 str(tmp_path / "o.npy")]) == 2
    assert "is corrupt" in capsys.readouterr().err
    other = tmp_path / "other.safetensors"
    AutoEncoder(latent_dim=8, hidden=(32,), epochs=1, random_state=5).fit(np.load(files / "flat.npy")).save(other)
    assert main(["decompress", str(other), str(aez), "-o", str(tmp_path / "o.npy")]) == 2
    assert "was compressed with another model" in capsys.readouterr().err
    assert main(["decompress", str(files / "ae.safetensors"), str(files / "flat.npy"), "-o",
                 str(tmp_path / "o.npy")]) == 2
    assert "not an aekit compressed file" in capsys.readouterr().err


def test_encode_compare_prints_the_table(files, capsys):
    assert main(["encode", str(files / "ae.safetensors"), str(files / "digits.npz"), "-o",
                 str(files / "codes.npy"), "--compare"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["method", "dim", "reconstruction_mse", "trustworthiness", "knn_accuracy"]
    assert lines[1].split()[:2] == ["autoencoder", "8"] and lines[2].split()[:2] == ["pca", "8"]

