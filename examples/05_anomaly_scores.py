"""Tutorial 5 ("Autoencoders: a lesson"): reconstruction error as an anomaly score.

A 784-32-784 autoencoder trained on the training digits scores every test digit by its per-sample
reconstruction error (``score_samples`` is minus that error: higher = more normal); the 10 test digits it
reconstructs worst are shown over their reconstructions.
"""
import numpy as np
from _common import mnist, parse_args

from aekit import AutoEncoder
from aekit import plots

args = parse_args(__doc__.splitlines()[0], epochs=20)
x_train, _, x_test, y_test = mnist(args)

autoencoder = AutoEncoder(latent_dim=32, hidden=(), latent_activation="relu", epochs=args.epochs, batch_size=256,
                          random_state=0, verbose=1).fit(x_train)

errors = autoencoder.reconstruction_error(x_test)  # (n_test,)
worst = np.argsort(errors)[::-1][:10]
ax = plots.plot_reconstructions(x_test[worst], autoencoder.predict(x_test[worst]), (28, 28))
ax.set_title("The 10 most anomalous test digits (labels: " + " ".join(str(int(y)) for y in y_test[worst]) + ")")
plots.save_figure(ax, args.out / "05_most_anomalous.png")
print(f"median error {np.median(errors):.4f}; 99th percentile {np.percentile(errors, 99):.4f}; "
      f"worst {errors[worst[0]]:.4f} (test index {worst[0]}, digit {y_test[worst[0]]})")
print(f"wrote {args.out / '05_most_anomalous.png'}")
