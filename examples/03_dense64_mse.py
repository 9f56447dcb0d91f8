"""Tutorial 3 ("Autoencoders in deep learning"): 784 -> 64 (relu) -> 784 (sigmoid), trained with MSE.

The lesson compiles it with Adam and mean squared error; trained here for 50 epochs at batch 256,
validated on the test set.
"""
from _common import mnist, parse_args

from aekit import AutoEncoder
from aekit import plots

args = parse_args(__doc__.splitlines()[0], epochs=50)
x_train, _, x_test, _ = mnist(args)

autoencoder = AutoEncoder(latent_dim=64, hidden=(), latent_activation="relu", output_activation="sigmoid",
                          loss="mse", epochs=args.epochs, batch_size=256, validation_data=x_test,
                          random_state=0, verbose=1)
autoencoder.fit(x_train)

ax = plots.plot_reconstructions(x_test[:10], autoencoder.predict(x_test[:10]), (28, 28))
plots.save_figure(ax, args.out / "03_reconstructions.png")
h = autoencoder.history_
print(f"mse {h['loss'][-1]:.5f}  val mse {h['val_loss'][-1]:.5f}")
print(f"wrote {args.out / '03_reconstructions.png'}")
