"""The default settings train well on small data: the 2-D code map of digits beats PCA's."""
import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness

from aekit import AutoEncoder
from aekit.datasets import load_digits
from aekit.training.config import AUTO_EPOCHS, AUTO_STEPS, resolve_epochs


def test_auto_epochs_give_small_data_enough_steps():
    assert resolve_epochs("auto", 1797, 256) == -(-AUTO_STEPS // 8)  # 8 batches per epoch
    assert resolve_epochs("auto", 60000, 256) == AUTO_EPOCHS  # MNIST-sized data keep 50 epochs
    assert resolve_epochs(7, 10, 256) == 7


def test_default_autoencoder_beats_pca_on_digits():
    torch.set_num_threads(1)
    X = load_digits().X
    est = AutoEncoder(random_state=0).fit(X)  # the defaults, as make demo trains them
    assert len(est.history_["loss"]) == resolve_epochs("auto", len(X), 256)
    pca = PCA(2, random_state=0).fit(X)
    ours = trustworthiness(X, est.transform(X), n_neighbors=5)
    theirs = trustworthiness(X, pca.transform(X), n_neighbors=5)
    assert ours > theirs + 0.05, (ours, theirs)
    mse = float(np.mean((est.predict(X) - X) ** 2))
    assert mse < 0.8 * float(np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2))
