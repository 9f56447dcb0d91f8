"""Convolutional kinds: the Keras tutorials' layouts, image shapes, config errors, the CLI end to end."""
import numpy as np
import pytest
import torch

import aekit
from aekit import AutoEncoder, DataError
from aekit.cli import main as cli_main
from aekit.models import create_model
from aekit.models.conv import SameConv2d, SameConvTranspose2d


def n_weights(module):
    return sum(p.numel() for p in module.parameters())


def _centre_tap(layer):
    """Set a 3x3 layer to pass its one channel through its centre tap: output = the input sampled there."""
    with torch.no_grad():
        layer.weight.zero_()
        layer.weight[0, 0, 1, 1] = 1.0
        layer.bias.zero_()
    return layer


@pytest.mark.parametrize("size", [28, 7])
def test_strided_same_conv_reads_windows_where_keras_does(size):
    # Keras' padding='same' puts the odd zero after: on an even size, window o is centred on pixel 2o + 1
    # (torch's padding=1 centres it on 2o); on an odd size both centre it on 2o. Checked against
    # TensorFlow's Conv2D to 5e-7 when this was written.
    x = torch.arange(float(size * size)).reshape(1, 1, size, size)
    y = _centre_tap(SameConv2d(1, 1, 3, 2, (size, size)))(x)
    first = 1 if size % 2 == 0 else 0
    assert y.shape[-2:] == (-(-size // 2),) * 2
    torch.testing.assert_close(y[0, 0], x[0, 0, first::2, first::2])


@pytest.mark.parametrize("out", [28, 14, 7])
def test_strided_same_transposed_conv_places_pixels_where_keras_does(out):
    n = -(-out // 2)
    x = torch.arange(1.0, n * n + 1).reshape(1, 1, n, n)
    y = _centre_tap(SameConvTranspose2d(1, 1, 3, (out, out)))(x)
    first = 1 if out % 2 == 0 else 0  # the mirror of the convolution above
    m = len(range(first, out, 2))
    assert y.shape[-2:] == (out, out)
    torch.testing.assert_close(y[0, 0, first::2, first::2], x[0, 0, :m, :m])
    assert int((y != 0).sum()) == m * m  # the pixels between are zeros


def test_keras_blog_conv_layout():
    m = create_model("conv", input_shape=(1, 28, 28), filters=(16, 8, 8), downsample="pool",
                     upsample="upsample", bottleneck="conv")
    assert n_weights(m) == 4385  # the blog's model.summary()
    assert m.config.latent_dim == 8 * 4 * 4  # the code is the (8, 4, 4) map


def test_keras_io_transposed_conv_layout():
    m = create_model("conv", input_shape=(1, 28, 28), filters=(32, 32), downsample="pool",
                     upsample="transpose", bottleneck="conv")
    assert n_weights(m) == 28353


def test_keras_io_conv_vae_layout():
    m = create_model("conv_vae", input_shape=(1, 28, 28), filters=(32, 64), downsample="stride",
                     upsample="transpose", hidden=(16,), decoder_hidden=(), latent_dim=2)
    assert (n_weights(m.encoder), n_weights(m.decoder)) == (69076, 65089)


@pytest.mark.parametrize("shape", [(8, 8), (1, 7, 7), (3, 9, 13)])
@pytest.mark.parametrize("downsample", ["stride", "pool"])
@pytest.mark.parametrize("upsample", ["transpose", "upsample"])
@pytest.mark.parametrize("bottleneck", ["dense", "conv"])
def test_any_image_size_comes_back_in_its_shape(shape, downsample, upsample, bottleneck):
    m = create_model("conv", input_shape=shape, filters=(4, 4, 4), latent_dim=3, downsample=downsample,
                     upsample=upsample, bottleneck=bottleneck)
    x = torch.rand((2,) + shape)
    assert m(x)["logits"].shape == x.shape


@pytest.mark.parametrize("kwargs, match", [
    (dict(input_shape=(64,)), r"input_shape \(H, W\) or \(C, H, W\), got \(64,\)"),
    (dict(filters=()), "filters must be a non-empty tuple"),
    (dict(kernel_size=4), "kernel_size must be an odd positive integer"),
    (dict(downsample="avg"), "downsample must be one of"),
    (dict(upsample="bilinear"), "upsample must be one of"),
    (dict(bottleneck="none"), "bottleneck must be one of"),
])
def test_conv_config_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        create_model("conv", **{"input_shape": (8, 8), **kwargs})


def test_estimator_takes_hw_and_chw_images_and_saves_the_image_shape(digits, tmp_path):
    X, _ = digits
    images = X[:64].reshape(-1, 8, 8)
    for data in (images, images[:, None]):
        est = AutoEncoder(kind="conv", filters=(8, 8), latent_dim=4, epochs=2, batch_size=32, random_state=0)
        est.fit(data)
        assert est.transform(data).shape == (64, 4)
        assert est.predict(data).shape == data.shape
    path = est.save(tmp_path / "conv.safetensors")
    assert tuple(aekit.load(path).model_.config.input_shape) == (1, 8, 8)
    with pytest.raises(DataError, match=r"Expected 3D or 4D array for X, got 2D array"):
        est.predict(X[:5])
    with pytest.raises(DataError, match=r"fitted on samples of shape \(1, 8, 8\)"):
        est.predict(np.zeros((2, 1, 9, 9), dtype=np.float32))


def test_cli_trains_a_conv_model_on_digits_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli_main(["train", "digits", "--kind", "conv", "--epochs", "1", "--filters", "8,8", "--latent", "4",
                     "--out", str(out), "--quiet", "--no-report"])
    assert code == 0
    est = aekit.load(out / "model.safetensors")
    assert est.model_.kind == "conv" and tuple(est.input_shape_) == (8, 8)
    assert (out / "reconstructions.png").exists()


def test_transposed_conv_crop_matches_slicing_and_keeps_channels_last():
    # SameConvTranspose2d crops with one copy into the input's memory format (forward and backward); it
    # must compute what slicing the full transposed convolution computes, value and gradient
    torch.manual_seed(0)
    layer = SameConvTranspose2d(3, 4, 3, (14, 14)).to(memory_format=torch.channels_last)
    x = torch.randn(2, 3, 7, 7).contiguous(memory_format=torch.channels_last).requires_grad_()
    y = layer(x)
    assert y.shape == (2, 4, 14, 14) and y.is_contiguous(memory_format=torch.channels_last)
    g = torch.randn(y.shape)
    (y * g).sum().backward()
    x_ref = x.detach().clone().requires_grad_()
    full = torch.nn.functional.conv_transpose2d(x_ref, layer.weight, layer.bias, stride=2)
    ref = full[..., 0:14, 0:14]
    (ref * g).sum().backward()
    torch.testing.assert_close(y, ref)
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_output_conv_is_the_plain_convolution_with_the_same_weights():
    from aekit.models.conv import OutputConv2d

    torch.manual_seed(0)
    fast, plain = OutputConv2d(5, 1, 3, padding=1), torch.nn.Conv2d(5, 1, 3, padding=1)
    plain.load_state_dict(fast.state_dict())
    x = torch.randn(3, 5, 9, 9).contiguous(memory_format=torch.channels_last).requires_grad_()
    g = torch.randn(3, 1, 9, 9)
    got = fast(x)
    grads = torch.autograd.grad((got * g).sum(), (x, fast.weight, fast.bias))
    want = plain(x)
    ref = torch.autograd.grad((want * g).sum(), (x, plain.weight, plain.bias))
    torch.testing.assert_close(got, want)
    for a, b in zip(grads, ref):
        torch.testing.assert_close(a, b)
