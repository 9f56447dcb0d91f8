"""Issue 13, parameters: every one checked in one place, before any data are read, in scikit-learn's wording."""
import numpy as np
import pytest

from aekit import AnomalyDetector, AutoEncoder
from aekit.cli import main
from aekit.exceptions import InvalidParameterError

from hardening_helpers import FAST_AE, digits_X


@pytest.mark.parametrize("params, match", [
    ({"noise": "gaussian", "noise_factor": -1},
     r"The 'noise_factor' parameter of AutoEncoder must be a float in the range \[0, inf\). Got -1 instead."),
    ({"weight_decay": -0.1}, r"The 'weight_decay' parameter of AutoEncoder must be a float in the range \[0, inf\)"),
    ({"learning_rate": float("inf")}, r"The 'learning_rate' parameter .* \(0, inf\). Got inf instead."),
    ({"dropout": float("nan")}, r"The 'dropout' parameter .* Got nan instead."),
    ({"random_state": 2**70}, r"The 'random_state' parameter of AutoEncoder must be an int in the range "
                              r"\[0, 4294967295\], a numpy RandomState or Generator or None. Got 1180591620717411303424"),
    ({"latent_dim": 2.5}, r"The 'latent_dim' parameter of AutoEncoder must be an int in the range \[1, inf\)"),
    ({"latent_dim": True}, "The 'latent_dim' parameter"),
    ({"hidden": (8, -1)}, "The 'hidden' parameter of AutoEncoder must be a tuple of positive ints"),
    ({"batch_size": 0}, "The 'batch_size' parameter"),
    ({"loss": "l1"}, r"The 'loss' parameter of AutoEncoder must be a str among \{'auto', 'bce', 'mse'\}"),
    ({"verbose": -1}, "The 'verbose' parameter"),
])
def test_nonsense_values_are_refused(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        AutoEncoder(**{**FAST_AE, **params}).fit(digits_X(20))


@pytest.mark.parametrize("params, match", [
    ({"kind": "dense", "filters": (8,)}, r"The 'filters' parameter of AutoEncoder does not apply to kind='dense'"),
    ({"kind": "dense", "beta": 4}, r"The 'beta' parameter .* kind='dense' \(it is used by kinds 'conv_vae', 'vae'\)"),
    ({"kind": "dense", "beta_warmup": 3}, "The 'beta_warmup' parameter .* does not apply to kind='dense'"),
    ({"kind": "vae", "downsample": "pool"}, "The 'downsample' parameter .* does not apply to kind='vae'"),
    ({"kind": "lstm", "dropout": 0.2}, "The 'dropout' parameter .* does not apply to kind='lstm'"),
    ({"noise_factor": 0.3}, "The 'noise_factor' parameter of AutoEncoder only applies with noise set"),
])
def test_parameters_that_do_not_apply_to_the_kind_are_refused(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        AutoEncoder(**{**FAST_AE, **params}).fit(digits_X(20))


def test_parameters_that_apply_and_defaults_pass():
    X = digits_X(40)
    AutoEncoder(**{**FAST_AE, "kind": "vae", "beta": 4, "beta_warmup": 1}).fit(X)
    AutoEncoder(**{**FAST_AE, "beta": 1}).fit(X)  # equal to the default: not "set"
    AutoEncoder(**{**FAST_AE, "noise": "masking", "noise_factor": 0.2, "random_state": np.random.RandomState(0)}).fit(X)


def test_parameters_are_checked_before_any_data_are_read():
    with pytest.raises(InvalidParameterError, match="noise_factor"):
        AutoEncoder(noise="gaussian", noise_factor=-1).fit(None)  # None would be a DataError
    with pytest.raises(InvalidParameterError, match="The 'contamination' parameter of AnomalyDetector"):
        AnomalyDetector(contamination=0.9).fit(None)
    with pytest.raises(InvalidParameterError, match="The 'weight_decay' parameter of AutoEncoder"):
        AnomalyDetector(AutoEncoder(weight_decay=-1)).fit(None)  # the template too


def test_the_cli_refuses_a_bad_option_before_reading_the_data(tmp_path, capsys):
    argv = ["train", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "r"), "--noise", "gaussian",
            "--noise-factor", "-1"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "The 'noise_factor' parameter of AutoEncoder must be a float" in err[0]
    assert not (tmp_path / "r").exists()


def test_top_features_refuses_a_negative_k():
    X = digits_X(120)
    det = AnomalyDetector(AutoEncoder(**FAST_AE), random_state=0).fit(X)
    with pytest.raises(InvalidParameterError, match=r"The 'k' parameter of AnomalyDetector.top_features must be an int"):
        det.top_features(X[:2], k=-1)
    assert det.top_features(X[:2], k=2)[0][0][0].startswith("x")
