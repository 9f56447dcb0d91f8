"""keras-io's convolutional VAE under Keras 3 (JAX backend), for seeds: is its published 146.95 typical?

The keras-io example (generative/vae) trains with a TensorFlow ``GradientTape``; this is the same model,
layer for layer, with the KL term added by ``add_loss`` so that any backend trains it, the same loss
(BCE summed per image + KL summed over the code, both averaged over the batch), Adam's defaults, batch
128, 30 epochs, all 70,000 MNIST digits. Keras' "loss" is then reconstruction + KL, the figure aekit's
``bench/reproduce.py conv_vae`` reports. Runs in the keras-jax peer environment (bench/peers.py):

    KERAS_BACKEND=jax bench/.venvs/keras-jax/bin/python bench/keras_vae.py --seed 0 --out vae_seed0.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "workers"))
import common  # noqa: E402  (numpy only)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers, ops  # noqa: E402


class Sampling(layers.Layer):
    """z = mean + exp(log_var / 2) * eps, and the KL term added to the model's loss."""

    def __init__(self, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        kl = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        self.add_loss(ops.mean(ops.sum(kl, axis=1)))
        eps = keras.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps


def build(seed: int, latent_dim: int = 2) -> keras.Model:
    """keras-io's encoder (69,076 weights) and decoder (65,089), joined."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim)(x)
    z_log_var = layers.Dense(latent_dim)(x)
    z = Sampling(seed)([z_mean, z_log_var])
    x = layers.Dense(7 * 7 * 64, activation="relu")(z)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(inputs, outputs)


def reconstruction_loss(y_true, y_pred):
    """Binary cross-entropy summed over the image, one value per image (Keras averages over the batch)."""
    return ops.sum(keras.losses.binary_crossentropy(y_true, y_pred), axis=(1, 2))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--n", type=int, default=None, help="first N of the 70,000 digits (a quick check)")
    p.add_argument("--data-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                      "shared", "data", "mnist"))
    p.add_argument("--out", default=None)
    args = p.parse_args()
    keras.utils.set_random_seed(args.seed)
    train, test = common.load_mnist({"data_dir": args.data_dir})
    digits = np.concatenate([train, test]).reshape(-1, 28, 28, 1)[:args.n]
    model = build(args.seed)
    model.compile(optimizer=keras.optimizers.Adam(), loss=reconstruction_loss)
    start, losses = time.perf_counter(), []
    record = {"seed": args.seed, "epochs": args.epochs, "n": len(digits), "loss": losses,
              "weights": int(model.count_params()), "keras": keras.__version__, "backend": keras.backend.backend()}

    def write(epoch, logs):  # after every epoch, so a run cut short still leaves its record
        losses.append(float(logs["loss"]))
        record["seconds"] = round(time.perf_counter() - start, 1)
        if args.out:
            with open(args.out, "w") as f:
                json.dump(record, f, indent=1)

    model.fit(digits, digits, epochs=args.epochs, batch_size=128, verbose=2,
              callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=write)])
    print(json.dumps({k: record[k] for k in ("seed", "weights", "seconds")} | {"final_loss": losses[-1]}))


if __name__ == "__main__":
    main()
