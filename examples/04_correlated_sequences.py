"""Tutorial 4 ("Building the simplest Auto-Encoder in Keras"): five correlated sequences.

Columns 1, 3, 5 rise from 0 to 100 and columns 2, 4 fall from 100 to 0, with uniform noise of +-1.5.
A linear 5-5-2-5 network learns them with MSE for 1000 epochs (Adam, batch 32); then it reconstructs the
unseen row [10, 1000, 10, 1000, 10]. The tutorial reports MSE 0.58 and [[9.51, 1000.56, 10.02, 999.55, 10.27]].
"""
import argparse

import numpy as np

from aekit import AutoEncoder
from aekit.datasets import make_correlated_sequences

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--quick", action="store_true", help="100 epochs instead of 1000 (used by the tests)")
p.add_argument("--seed", type=int, default=0)
args = p.parse_args()

data = make_correlated_sequences(n=100, noise=1.5, random_state=args.seed)
model = AutoEncoder(latent_dim=2, hidden=(5,), decoder_hidden=(), activation="linear", output_activation="linear",
                    loss="mse", scaling=None, epochs=100 if args.quick else 1000, batch_size=32,
                    random_state=args.seed)
model.fit(data)

mse = float(((model.predict(data) - data) ** 2).mean())
test = np.array([[10, 1000, 10, 1000, 10]])
np.set_printoptions(precision=2, suppress=True)
print(f"training mse {mse:.2f}")
print("reconstruction of [10, 1000, 10, 1000, 10]:", model.predict(test))
