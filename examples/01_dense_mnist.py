"""Tutorial 1 (Keras blog / "Implementing autoencoders in Keras"): the simplest autoencoder.

784 -> 32 (relu) -> 784 (sigmoid), binary cross-entropy, Adam, 50 epochs, batch 256, validated on the
test set; then 10 test digits over their reconstructions.
"""
from _common import mnist, parse_args

from aekit import AutoEncoder
from aekit import plots

args = parse_args(__doc__.splitlines()[0], epochs=50)
x_train, _, x_test, _ = mnist(args)

autoencoder = AutoEncoder(latent_dim=32, hidden=(), latent_activation="relu", output_activation="sigmoid",
                          loss="bce", epochs=args.epochs, batch_size=256, validation_data=x_test,
                          random_state=0, verbose=1)
autoencoder.fit(x_train)

decoded_imgs = autoencoder.predict(x_test)
ax = plots.plot_reconstructions(x_test[:10], decoded_imgs[:10], (28, 28))
plots.save_figure(ax, args.out / "01_reconstructions.png")
h = autoencoder.history_
print(f"loss {h['loss'][-1]:.4f}  val_loss {h['val_loss'][-1]:.4f}  ({len(h['loss'])} epochs, "
      f"{sum(h['seconds']):.1f} s)")
print(f"wrote {args.out / '01_reconstructions.png'}")
