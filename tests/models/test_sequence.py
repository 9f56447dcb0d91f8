"""Sequence kinds and the window helpers: a series cut into windows, errors mapped back to time steps."""
import numpy as np
import pytest
import torch

from aekit import AutoEncoder, DataError
from aekit.data.windows import make_windows, timestep_errors, window_starts
from aekit.models import create_model


def test_make_windows_covers_every_step():
    series = np.arange(22, dtype=float).reshape(11, 2)
    W = make_windows(series, window=4, step=3)
    assert W.shape == (4, 4, 2)  # starts 0, 3, 6 and the extra window at 7 that reaches the last step
    np.testing.assert_array_equal(window_starts(11, 4, 3), [0, 3, 6, 7])
    np.testing.assert_array_equal(W[1, :, 0], [6, 8, 10, 12])
    assert make_windows(np.arange(5.0), 5).shape == (1, 5, 1)


def test_timestep_errors_average_overlapping_windows():
    err = np.array([[1.0, 1.0, 1.0], [3.0, 3.0, 3.0]])  # windows at 0 and 1 of a 4-step series
    np.testing.assert_allclose(timestep_errors(err, n_steps=4, step=1), [1, 2, 2, 3])


@pytest.mark.parametrize("call, match", [
    (lambda: make_windows(np.zeros((5, 2)), 6), "window=6 is longer than the series"),
    (lambda: make_windows(np.zeros((5, 2)), 0), "window must be a positive integer"),
    (lambda: make_windows(np.zeros((5, 2, 2)), 2), r"series must be 1-D .* or 2-D"),
    (lambda: timestep_errors(np.zeros((3, 4)), n_steps=10, step=1), "errors hold 3 windows of 4 steps"),
    (lambda: timestep_errors(np.zeros(3), n_steps=10), r"errors must be \(n_windows, window\)"),
])
def test_window_errors(call, match):
    with pytest.raises(DataError, match=match):
        call()


@pytest.mark.parametrize("kind", ["lstm", "conv1d"])
def test_sequence_autoencoder_points_at_the_anomalous_steps(kind):
    rng = np.random.default_rng(0)
    t = np.arange(240)
    series = np.stack([np.sin(t / 6), np.cos(t / 9)], axis=1) + 0.05 * rng.normal(size=(240, 2))
    series[200:204] += 3.0  # a burst
    W = make_windows(series, window=12, step=4)
    est = AutoEncoder(kind=kind, latent_dim=3, hidden=(16,), filters=(8, 8), epochs=25, batch_size=16,
                      learning_rate=3e-3, random_state=0).fit(W)
    per_step = est.reconstruction_error(W, per_feature=True).reshape(W.shape).mean(axis=2)
    errors = timestep_errors(per_step, n_steps=240, step=4)
    assert 196 <= int(errors.argmax()) <= 208


@pytest.mark.parametrize("kwargs, match", [
    (dict(input_shape=(8,)), r"input_shape \(T, F\), got \(8,\)"),
    (dict(input_shape=(8, 2), kernel_size=2), "kernel_size must be an odd positive integer"),
])
def test_sequence_config_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        create_model("conv1d", **kwargs)


def test_lstm_needs_a_layer_and_windows_need_3d_input():
    with pytest.raises(ValueError, match="the lstm kind needs at least one LSTM layer"):
        create_model("lstm", input_shape=(8, 2), hidden=())
    with pytest.raises(ValueError, match="the conv1d kind needs at least one convolution"):
        create_model("conv1d", input_shape=(8, 2), filters=())
    with pytest.raises(DataError, match=r"Expected 3D array for X, got 2D array"):
        AutoEncoder(kind="lstm", epochs=1).fit(np.zeros((20, 3)))


def test_lstm_layers_start_from_keras_defaults():
    # glorot input weights, orthogonal recurrent weights, forget-gate bias 1 (Keras' unit_forget_bias)
    model = create_model("lstm", input_shape=(12, 3), hidden=(8,), latent_dim=2)
    for lstm in (model.encoder.lstms[0], model.decoder.lstms[0]):
        h = lstm.hidden_size
        w_hh = lstm.weight_hh_l0.detach()  # (4h, h), orthonormal columns
        torch.testing.assert_close(w_hh.T @ w_hh, torch.eye(h), atol=1e-5, rtol=0)
        bias = lstm.bias_ih_l0.detach()
        assert bool((bias[h:2 * h] == 1).all()) and int(bias.count_nonzero()) == h
        assert int(lstm.bias_hh_l0.count_nonzero()) == 0
