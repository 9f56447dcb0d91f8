"""Tutorial 2 ("An Intuitive Explanation to AutoEncoders"): a 2-D code of MNIST from a linear model.

784 -> 2 -> 784 with no activations, 5 epochs at Keras' default batch of 32; the codes of the training
digits drawn as a scatter coloured by digit. The tutorial compiles this linear output with binary
cross-entropy, which Keras can only apply by clipping the unbounded output; a linear model is fitted with
mean squared error here (the same subspace PCA finds).
"""
from _common import mnist, parse_args

from aekit import AutoEncoder
from aekit import plots

args = parse_args(__doc__.splitlines()[0], epochs=5)
data, labels, _, _ = mnist(args)

autoencoder = AutoEncoder(latent_dim=2, hidden=(), activation="linear", output_activation="linear",
                          loss="mse", scaling=None, epochs=args.epochs, batch_size=32, random_state=0, verbose=1)
autoencoder.fit(data)

encodings = autoencoder.transform(data)
ax = plots.plot_codes(encodings, labels, title="MNIST in 2-D: linear autoencoder 784-2-784")
plots.save_figure(ax, args.out / "02_codes.png")
print(f"training mse {autoencoder.history_['loss'][-1]:.4f}; codes {encodings.shape}")
print(f"wrote {args.out / '02_codes.png'}")
