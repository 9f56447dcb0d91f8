"""Keras 3, exactly the code of the Keras autoencoder tutorial ("Building Autoencoders in Keras").

Args (JSON): model, epochs, backend ("tensorflow" or "jax"), jit_compile (true, or absent for Keras' default).
Epoch time: on_epoch_begin -> on_epoch_end of a callback, i.e. the training pass plus the validation pass
that ``fit(validation_data=...)`` runs; ``train_seconds`` stops at on_test_begin (training pass only).
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

args = common.parse_args()
os.environ["KERAS_BACKEND"] = args.get("backend", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from keras import layers  # noqa: E402


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds, self.train_seconds = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = self._tval = time.perf_counter()

    def on_test_begin(self, logs=None):
        self._tval = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.seconds.append(now - self._t0)
        self.train_seconds.append(self._tval - self._t0)


def build(model_name: str) -> keras.Model:
    spec = common.MODELS[model_name]
    input_img = keras.Input(shape=(784,))
    x = input_img
    for width in [*spec["hidden"], spec["latent"]]:
        x = layers.Dense(width, activation="relu")(x)
    for width in reversed(spec["hidden"]):
        x = layers.Dense(width, activation="relu")(x)
    decoded = layers.Dense(784, activation="sigmoid")(x)
    return keras.Model(input_img, decoded)


def main() -> None:
    keras.utils.set_random_seed(args["seed"])
    x_train, x_test = common.load_mnist(args)
    autoencoder = build(args["model"])
    compile_kwargs = {"jit_compile": True} if args.get("jit_compile") else {}
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy", **compile_kwargs)
    timer = EpochTimer()
    clock = common.Clock()
    history = autoencoder.fit(x_train, x_train, epochs=args["epochs"], batch_size=256, shuffle=True,
                              validation_data=(x_test, x_test), verbose=0, callbacks=[timer])
    fit_seconds, cpu_wait = clock.lap(), clock.cpu_wait()
    peak = common.peak_rss_mb()
    losses = common.final_losses(lambda xb: autoencoder.predict(xb, batch_size=5000, verbose=0),
                                 x_train, x_test)
    backend = keras.backend.backend()
    versions = {"keras": keras.__version__}
    if backend == "tensorflow":
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
        threads = {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                   "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}
    else:
        import jax

        versions["jax"] = jax.__version__
        threads = {"jax_devices": [str(d) for d in jax.devices()]}
    impl = {"tensorflow": "keras-tf", "jax": "keras-jax"}[backend] + ("-xla" if args.get("jit_compile") else "")
    common.emit(impl, args, n_train=len(x_train), n_val=len(x_test), seconds=timer.seconds,
                train_seconds=timer.train_seconds, fit_seconds=fit_seconds, cpu_wait=cpu_wait,
                loss=history.history["loss"], val_loss=history.history["val_loss"], peak_rss_mb=peak,
                final=losses, versions=versions, threads=threads,
                jit_compile=str(getattr(autoencoder, "jit_compile", None)))


if __name__ == "__main__":
    main()
