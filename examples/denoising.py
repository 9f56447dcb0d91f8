"""The Keras blog's denoising autoencoder, on aekit: clean digits back from gaussian noise.

"Building Autoencoders in Keras" (F. Chollet, 2016) adds ``noise_factor * N(0, 1)`` noise with
``noise_factor = 0.5`` to the MNIST digits, clips the result to [0, 1], and trains an autoencoder to map the
noisy images to the clean ones. Here that is the 784-32-784 model (Adam, per-pixel binary cross-entropy,
batch 256) fitted with ``fit(X_noisy, X_clean)``, exactly the tutorial's ``fit(x_train_noisy, x_train)``.
(aekit can also draw fresh noise for every batch: ``AutoEncoder(noise="gaussian", noise_factor=0.5)``.)

    python examples/denoising.py --out docs/img          # 100 epochs, writes denoising.png
    python examples/denoising.py --quick --out /tmp      # a smoke run for tests and CI
"""
import numpy as np
from _common import mnist, parse_args

from aekit import AutoEncoder, plots

NOISE_FACTOR = 0.5


def add_noise(x, rng):
    """The tutorial's corruption: gaussian noise times 0.5, clipped to [0, 1]."""
    return np.clip(x + NOISE_FACTOR * rng.normal(size=x.shape), 0.0, 1.0).astype(np.float32)


def main():
    args = parse_args("Denoising 784-32-784 autoencoder on MNIST (gaussian noise 0.5).", epochs=100)
    x_train, _, x_test, _ = mnist(args)  # (60000, 784), (10000, 784) in [0, 1]
    epochs = args.epochs
    rng = np.random.default_rng(0)
    x_train_noisy, x_test_noisy = add_noise(x_train, rng), add_noise(x_test, rng)

    est = AutoEncoder(hidden=(), latent_dim=32, latent_activation="relu", epochs=epochs, batch_size=256,
                      optimizer="adam", loss="bce", validation_data=(x_test_noisy, x_test), random_state=0)
    est.fit(x_train_noisy, x_train)
    denoised = est.predict(x_test_noisy)
    h = est.history_
    print(f"train loss {h['loss'][-1]:.4f}  val loss {h['val_loss'][-1]:.4f}  "
          f"test MSE noisy {np.mean((x_test_noisy - x_test) ** 2):.4f} -> denoised {np.mean((denoised - x_test) ** 2):.4f}")

    ax = plots.plot_image_rows([x_test_noisy[:10], denoised[:10], x_test[:10]], (28, 28),
                               ["noisy", "denoised", "clean"],
                               title=f"Denoising autoencoder, gaussian noise {NOISE_FACTOR}, {epochs} epochs")
    plots.save_figure(ax, args.out / "denoising.png")
    print(f"wrote {args.out / 'denoising.png'}")


if __name__ == "__main__":
    main()
