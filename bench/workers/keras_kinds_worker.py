"""Keras 3, the tutorials' code for the non-dense kinds (common.KINDS): conv-blog, conv-io, conv-vae, lstm.

Args (JSON): model (a kind), epochs, backend ("tensorflow" or "jax"), n_train, n_val.
Layer for layer the Keras blog's and keras-io's models (channels-last images, ``padding='same'``), the
keras-io VAE with its KL term added by ``add_loss`` (so that both backends train it; Keras' loss is then
BCE summed per image + KL, averaged over the batch), and an LSTM sequence autoencoder. Adam's defaults,
``fit(batch_size=128, shuffle=True, validation_data=...)``. Epoch time as in keras_worker.py.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

args = common.parse_args()
os.environ["KERAS_BACKEND"] = args.get("backend", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

from keras_worker import EpochTimer  # noqa: E402


def conv_blog(x):
    """The Keras blog's "convolutional autoencoder" (4,385 weights)."""
    for f in (16, 8, 8):
        x = layers.Conv2D(f, 3, activation="relu", padding="same")(x)
        x = layers.MaxPooling2D(2, padding="same")(x)
    for f, pad in ((8, "same"), (8, "same"), (16, "valid")):
        x = layers.Conv2D(f, 3, activation="relu", padding=pad)(x)
        x = layers.UpSampling2D(2)(x)
    return layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)


def conv_io(x):
    """keras-io's convolutional autoencoder (28,353 weights)."""
    for _ in range(2):
        x = layers.Conv2D(32, 3, activation="relu", padding="same")(x)
        x = layers.MaxPooling2D(2, padding="same")(x)
    for _ in range(2):
        x = layers.Conv2DTranspose(32, 3, strides=2, activation="relu", padding="same")(x)
    return layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)


class Sampling(layers.Layer):
    """z = mean + exp(log_var / 2) * eps while training (the mean when predicting), and the KL term."""

    def __init__(self, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        z_mean, z_log_var = inputs
        kl = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        self.add_loss(ops.mean(ops.sum(kl, axis=1)))
        if not training:
            return z_mean
        eps = keras.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps


def conv_vae(x):
    """keras-io's VAE (encoder 69,076 weights, decoder 65,089), latent 2."""
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Dense(16, activation="relu")(layers.Flatten()(x))
    z = Sampling(args["seed"])([layers.Dense(2)(x), layers.Dense(2)(x)])
    x = layers.Reshape((7, 7, 64))(layers.Dense(7 * 7 * 64, activation="relu")(z))
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    return layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)


def lstm(x):
    spec = common.KINDS["lstm"]
    x = layers.LSTM(spec["hidden"])(x)
    x = layers.RepeatVector(28)(layers.Dense(spec["latent"])(x))
    x = layers.LSTM(spec["hidden"], return_sequences=True)(x)
    return layers.TimeDistributed(layers.Dense(28, activation="sigmoid"))(x)


BUILDERS = {"conv-blog": conv_blog, "conv-io": conv_io, "conv-vae": conv_vae, "lstm": lstm}


def summed_bce(y_true, y_pred):
    """keras-io's VAE reconstruction term: BCE summed over the image, one value per image."""
    return ops.sum(keras.losses.binary_crossentropy(y_true, y_pred), axis=(1, 2))


def main() -> None:
    kind = args["model"]
    keras.utils.set_random_seed(args["seed"])
    x_train, x_test = common.load_images(args)
    if kind != "lstm":  # images: (n, 28, 28, 1), channels last
        x_train, x_test = x_train[..., None], x_test[..., None]
    inputs = keras.Input(shape=x_train.shape[1:])
    model = keras.Model(inputs, BUILDERS[kind](inputs))
    model.compile(optimizer="adam", loss=summed_bce if kind == "conv-vae" else "binary_crossentropy")
    timer = EpochTimer()
    clock = common.Clock()
    history = model.fit(x_train, x_train, epochs=args["epochs"], batch_size=common.KINDS[kind]["batch_size"],
                        shuffle=True, validation_data=(x_test, x_test), verbose=0, callbacks=[timer])
    fit_seconds, cpu_wait = clock.lap(), clock.cpu_wait()
    peak = common.peak_rss_mb()
    losses = common.final_losses(lambda xb: model.predict(xb, batch_size=1000, verbose=0), x_train, x_test)
    impl = {"tensorflow": "keras-tf", "jax": "keras-jax"}[keras.backend.backend()]
    common.emit(impl, args, n_train=len(x_train), n_val=len(x_test), seconds=timer.seconds,
                train_seconds=timer.train_seconds, fit_seconds=fit_seconds, cpu_wait=cpu_wait,
                loss=history.history["loss"], val_loss=history.history["val_loss"], peak_rss_mb=peak,
                final=losses, weights=int(model.count_params()), versions={"keras": keras.__version__})


if __name__ == "__main__":
    main()
