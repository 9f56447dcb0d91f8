"""``AutoEncoder``: the scikit-learn face of every autoencoder in aekit."""
from __future__ import annotations

import dataclasses
import logging

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin

from . import _fitting, persistence
from ._params import validate_params
from ._sklearn import SklearnMixin
from .data.scaling import Scaler, resolve_scaling
from .data.sources import ArraySource, is_streamable, open_source
from ._generative import GenerativeMixin
from ._model_files import ModelFileMixin
from .data.prepare import resolve_output, split_validation
from .data.validation import check_array, check_n_features, check_random_state_int, feature_names_of
from .exceptions import DataError, NotFittedError
from .models import model_class
from .models.custom import CustomAutoencoder, custom_model
from .training.callbacks import Callback

logger = logging.getLogger(__name__)

@persistence.loadable
class AutoEncoder(SklearnMixin, ModelFileMixin, GenerativeMixin, TransformerMixin, BaseEstimator):
    """An autoencoder of any registered kind, trained by aekit's one loop.

    Parameters
    ----------
    kind : str, default='dense'
        Registered model name; ``aekit.models.list_models()`` lists them.
    latent_dim : int, default=2
        Size of the code.
    hidden : tuple of int, default=(128, 64)
        Encoder widths, mirrored by the decoder. ``hidden=()`` with ``activation='linear'`` is the linear
        autoencoder (PCA's subspace). For 'conv' / 'conv_vae': the dense layers between the last feature map
        and a dense code; for 'lstm': the sizes of the stacked LSTMs.
    decoder_hidden : tuple of int or None, default=None
        Decoder widths when they should not mirror ``hidden``.
    activation, latent_activation : str, default='relu', 'linear'
        Activations of the hidden layers and of the code.
    output_activation : {'auto', 'sigmoid', 'linear'}, default='auto'
        'auto' is sigmoid when the (scaled) training data lie in [0, 1], else linear.
    loss : {'auto', 'bce', 'mse'} or callable, default='auto'
        Reconstruction loss, a mean per element as Keras reports it. 'auto' is bce for a sigmoid output.
        A callable ``loss(reconstruction, target) -> scalar tensor`` (e.g. ``torch.nn.L1Loss()``) replaces
        it for non-variational kinds; it gets the output after ``output_activation``.
    batch_norm, dropout : bool, float
        Optional batch normalisation and dropout after each hidden layer.
    filters : tuple of int or None
        Channels of the convolutional kinds ('conv', 'conv_vae', 'conv1d'), one per halving of the image or
        window (ignored by dense models). None keeps the kind's default.
    kernel_size : int or None
        Odd kernel size of the convolutional kinds (default 3).
    downsample : {'stride', 'pool'} or None
        How a convolutional encoder halves the image: stride-2 convolutions (default) or max-pooling.
    upsample : {'transpose', 'upsample'} or None
        How a convolutional decoder doubles it: transposed convolutions (default) or conv + upsampling.
    bottleneck : {'dense', 'conv'} or None
        The code of 'conv': a dense layer of ``latent_dim`` units (default), or the last feature map
        flattened (the Keras tutorials' layout; ``latent_dim`` is then that map's size).
    beta, beta_warmup : float, int
        Weight of the KL term of variational kinds ('vae', 'conv_vae') and the epochs over which it ramps up
        from 0 (0: no warm-up). Their losses are sums per sample: ``reconstruction`` and ``kl`` in
        ``history_``, ``loss = reconstruction + beta * kl``.
    activity_l1 : float, default=0.0
        L1 penalty on the code, ``activity_l1 * sum|z|`` per sample (Keras 1 / tf.keras'
        ``activity_regularizer=l1(...)``): a sparse autoencoder.
    sparsity_target, sparsity_weight : float, default=0.05, 0.0
        KL sparsity: ``sparsity_weight * sum_j KL(sparsity_target || mean activation of code unit j)``; needs
        a code in [0, 1] (``latent_activation='sigmoid'``). 0 turns it off.
    noise : {None, 'gaussian', 'masking', 'salt_and_pepper'}, noise_factor : float
        Corruption drawn afresh for every batch: a denoising autoencoder. ``noise_factor`` is the gaussian's
        standard deviation (clipped to [0, 1] for sigmoid outputs), or the fraction of elements set to 0
        (masking) or to 0/1 (salt and pepper).
    epochs : int or 'auto', default='auto'
        Passes over the training data. 'auto' trains 50 epochs, or more on small data: enough epochs for
        3,000 optimizer steps (1,797 digits at batch 256: 429 epochs, a few seconds), which small data need
        to train well.
    batch_size, learning_rate, optimizer, weight_decay
        Training settings; optimizer is 'adam', 'adamw', 'sgd' or 'rmsprop', or a factory
        ``optimizer(params) -> torch.optim.Optimizer`` (then learning_rate and weight_decay are unused).
    validation_split : float, default=0.0
        Fraction of the training data held out (randomly) for ``val_loss``.
    validation_data : array or (X_val, Y_val), optional
        Explicit validation data; takes precedence over ``validation_split``.
    early_stopping : int or None
        Patience in epochs on val_loss (or loss); the best weights are restored.
    scaling : {'auto', 'minmax', 'standard', None}, default='auto'
        Per-feature scaling fitted on the training data and saved with the model. 'auto' leaves data in
        [0, 1] alone, and data already standardised (each feature mean 0, std 1, as after a StandardScaler
        in a Pipeline), and min-max scales anything else.
    random_state : int or None
        Seeds weights, shuffling, splits and noise (without touching torch's global generator).
    device : {'auto', 'cpu', 'cuda'}, default='auto'
    verbose : int, default=0
        1 shows a progress bar per epoch with loss and val_loss.
    encoder, decoder : torch.nn.Module or None, default=None
        Your own modules (both or neither): ``encoder(x) -> (batch, latent_dim)``, ``decoder(z) -> logits``
        shaped like ``x``. They replace ``kind`` and its architecture parameters; copies are trained, yours
        stay as they are. See docs/integration.md for saving and loading them.
    callbacks : list of aekit.training.Callback or None, default=None
        Called by the training loop (``on_train_begin``, ``on_epoch_begin``, ``on_batch_end``,
        ``on_epoch_end``, ``on_train_end``); aekit.training.tracking has TensorBoard and MLflow ones.
    distributed : bool, default=False
        Train as one of the processes that ``torchrun`` (or ``aekit train --nproc N``) started: each joins
        the process group (gloo on CPU; nccl on CUDA, device = its local rank), reads its shard of the data
        and steps on ``batch_size / world_size`` rows, the gradients averaged over the processes, so
        ``batch_size`` stays the global batch. Every process ends with the same fitted model; save it from
        rank 0 (``aekit.training.distributed.is_main_process()``); ``callbacks`` run on rank 0 alone (a stop
        they ask for applies to all). Outside torchrun it trains alone.
        docs/scale.md, "Many processes and machines".

    Attributes
    ----------
    model_ : torch.nn.Module
    encoder_, decoder_ : torch.nn.Module
    scaler_ : Scaler
    history_ : dict of lists, per epoch: loss, val_loss, each loss term, code_activation, seconds
    n_features_in_ : int
    input_shape_ : tuple, the shape of one sample
    feature_names_in_ : ndarray of str, when X had column names

    Examples
    --------
    >>> from aekit import AutoEncoder
    >>> from aekit.datasets import load_digits
    >>> X = load_digits().X
    >>> est = AutoEncoder(latent_dim=2, hidden=(32,), epochs=2, random_state=0).fit(X)
    >>> est.transform(X[:5]).shape
    (5, 2)
    >>> est.predict(X[:5]).shape
    (5, 64)
    """

    def __init__(self, kind="dense", latent_dim=2, hidden=(128, 64), decoder_hidden=None, activation="relu",
                 latent_activation="linear", output_activation="auto", loss="auto", batch_norm=False,
                 dropout=0.0, filters=None, kernel_size=None, downsample=None, upsample=None, bottleneck=None,
                 beta=1.0, beta_warmup=0, activity_l1=0.0, sparsity_target=0.05, sparsity_weight=0.0, noise=None,
                 noise_factor=0.5, epochs="auto", batch_size=256, learning_rate=1e-3, optimizer="adam",
                 weight_decay=0.0, validation_split=0.0, validation_data=None, early_stopping=None,
                 scaling="auto", random_state=None, device="auto", verbose=0, encoder=None, decoder=None,
                 callbacks=None, distributed=False):
        self.kind = kind
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.decoder_hidden = decoder_hidden
        self.activation = activation
        self.latent_activation = latent_activation
        self.output_activation = output_activation
        self.loss = loss
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.filters = filters
        self.kernel_size = kernel_size
        self.downsample = downsample
        self.upsample = upsample
        self.bottleneck = bottleneck
        self.beta = beta
        self.beta_warmup = beta_warmup
        self.activity_l1 = activity_l1
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight
        self.noise = noise
        self.noise_factor = noise_factor
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.validation_split = validation_split
        self.validation_data = validation_data
        self.early_stopping = early_stopping
        self.scaling = scaling
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.encoder = encoder
        self.decoder = decoder
        self.callbacks = callbacks
        self.distributed = distributed

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, X, y=None, *, checkpoint_dir=None, checkpoint_every=1, checkpoint_steps=0, keep_checkpoints=2,
            shuffle_buffer=None):
        """Train on ``X``. ``y`` shaped like ``X`` is the reconstruction target (``fit(X_noisy, X_clean)``);
        a 1-D ``y`` (labels, as a Pipeline passes them) is ignored.

        Parameters
        ----------
        X : array-like, path or source
            An array (in memory), or data read as a stream, never whole: a ``.npy`` file (memory-mapped), a
            ``.parquet`` file or a folder of them, an ``aekit.data.sources.Source``, or a function returning
            an iterator of arrays (docs/scale.md). A stream's validation is ``validation_data`` or a
            ``validation_split`` fraction of its files' row groups.
        checkpoint_dir : str or Path, optional
            Save the run's whole state there every ``checkpoint_every`` epochs (``'auto'``: every epoch,
            at most once a minute; 0: only at the end), and every ``checkpoint_steps`` steps if > 0,
            keeping the last ``keep_checkpoints``. The same call with the
            same folder continues from its last checkpoint, to the same weights as an uninterrupted run
            (Keras' ``BackupAndRestore``, Lightning's ``ckpt_path``); a folder of another run (other
            parameters or data) is refused.
        shuffle_buffer : int, optional
            Rows of a stream's shuffle buffer (default: about 64 MB of rows).

        Returns
        -------
        self
        """
        validate_params(self)  # every parameter, before any data are read
        cls = self._model_class()
        ctx = _fitting.processes(self)
        device = ctx.device
        if is_streamable(X):
            if y is not None and np.ndim(y) > 1:
                raise DataError("fit(X, Y) with a target needs arrays; a stream is its own target")
            return _fitting.fit_stream(self, X, cls, ctx, checkpoint_dir, checkpoint_every, checkpoint_steps,
                                       keep_checkpoints, shuffle_buffer)
        X_arr = check_array(X, sample_ranks=cls.sample_ranks, estimator=type(self).__name__)
        target = None
        if y is not None and np.asarray(y).ndim > 1:
            target = check_array(y, name="y", sample_ranks=cls.sample_ranks, estimator=type(self).__name__)
            if target.shape != X_arr.shape:
                raise DataError(f"the target y has shape {target.shape}, but X has shape {X_arr.shape}; "
                                "fit(X, Y) trains X -> Y and needs them alike")
        names = feature_names_of(X)
        fingerprint = None
        if checkpoint_dir is not None:
            fingerprint = ArraySource(X_arr).fingerprint()
            if target is not None:
                fingerprint["target"] = ArraySource(target).fingerprint()
        checkpoints = _fitting.make_checkpointer(self, checkpoint_dir, fingerprint, checkpoint_every,
                                                 checkpoint_steps, keep_checkpoints, ctx.world_size)
        extra = _fitting.restored_extra(checkpoints)
        seed = extra["seed"] if extra else check_random_state_int(self.random_state)
        scaler = Scaler.fit(resolve_scaling(self.scaling, X_arr), X_arr)
        Xs = scaler.transform(X_arr)
        Ts = scaler.transform(target) if target is not None else None
        X_tr, T_tr, X_val, T_val = split_validation(Xs, Ts, self.validation_data, self.validation_split, scaler,
                                                    cls.sample_ranks, seed)
        output_activation, loss = resolve_output(self.output_activation, _fitting._loss_name(self),
                                                 T_tr if T_tr is not None else X_tr)
        trainer = _fitting.make_trainer(self, output_activation, ctx, seed, n_samples=len(X_tr))
        tensor = lambda a: None if a is None else torch.from_numpy(a)  # noqa: E731
        with _fitting.seeded(device, seed):
            model = self._build_model(cls, X_arr.shape[1:], output_activation, loss)
            history = _fitting.train(trainer, model, checkpoints, {"seed": seed}, tensor(X_tr), tensor(T_tr),
                                     tensor(X_val), tensor(T_val))
        # Only a finished fit replaces the learned state.
        self._set_fitted(model, scaler, history, tuple(X_arr.shape[1:]), names, device)
        return self

    def partial_fit(self, X, y=None):
        """One epoch on ``X``, continuing the previous calls (scikit-learn's convention).

        The first call fits the scaler on this chunk and builds the model and its optimizer; later calls
        keep them (the optimizer's moments, the random generators) and train one more epoch on each chunk.
        ``epochs`` and early stopping do not apply.

        Returns
        -------
        self
        """
        return _fitting.partial_fit(self, X)

    def _set_fitted(self, model, scaler, history, input_shape, names, device) -> None:
        self.__dict__.pop("_partial_state", None)  # a new model: partial_fit starts afresh
        self.model_ = model
        self.scaler_ = scaler
        self.history_ = history
        self.input_shape_ = tuple(input_shape)
        self.n_features_in_ = int(np.prod(self.input_shape_))
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.device_ = device

    def _model_class(self) -> type:
        """The registered model class: the user's modules' ('custom') when given, else ``kind``'s."""
        cls = CustomAutoencoder if self.encoder is not None or self.decoder is not None else model_class(self.kind)
        if callable(self.loss) and getattr(cls, "variational", False):
            raise ValueError(f"loss=callable replaces the reconstruction loss of non-variational kinds; kind="
                             f"{self.kind!r} has its own ELBO: use loss='bce' or 'mse' with it")
        return cls

    def _build_model(self, cls, input_shape, output_activation, loss):
        if cls is CustomAutoencoder:
            model = custom_model(self.encoder, self.decoder, tuple(input_shape), output_activation, loss)
        else:
            model = cls(self._model_config(cls, input_shape, output_activation, loss))
        if callable(self.loss):
            model.set_criterion(self.loss)
        return model

    def _user_callbacks(self) -> list:
        callbacks = list(self.callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be aekit.training.Callback instances, got {type(cb).__name__}; "
                                "subclass Callback and override the hooks you need")
        return callbacks

    def _model_config(self, cls, input_shape, output_activation, loss):
        """The model's dataclass config: each of its fields taken from the estimator parameter of that name."""
        params = self.get_params(deep=False)
        fields = {f.name for f in dataclasses.fields(cls.Config)}
        values = {k: v for k, v in params.items() if k in fields and v is not None}
        values.update(input_shape=tuple(input_shape), output_activation=output_activation, loss=loss)
        return cls.Config(**values)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]  # outputs are float32, torch's working precision
        return tags

    # -- using a fitted model ----------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with appropriate arguments "
                "before using this estimator."
            )

    def _prepare(self, X, name="X") -> torch.Tensor:
        self._check_fitted()
        arr = check_array(X, name=name, sample_ranks=type(self.model_).sample_ranks, estimator=type(self).__name__)
        check_n_features(arr, self.input_shape_, estimator=type(self).__name__, name=name)
        return torch.from_numpy(self.scaler_.transform(arr))

    @torch.inference_mode()
    def _map_batches(self, fn, x: torch.Tensor, batch_size: int = 2048) -> np.ndarray:
        """Apply ``fn`` to ``x`` in batches on the model's device, without gradients; concatenate as numpy.

        2048 rows of 784 features keep a batch's intermediates in the CPU's cache: score_samples of the
        tutorial model took 0.61 s for 300,000 rows against 0.74 s in batches of 8192, on 2 cores."""
        self.model_.eval()
        device = next(self.model_.parameters()).device
        parts = [fn(x[i:i + batch_size].to(device)).cpu() for i in range(0, x.shape[0], batch_size)]
        return torch.cat(parts).numpy()

    def _over_stream(self, method, X) -> np.ndarray:
        """``method`` applied chunk by chunk to a stream (a path, a source), the results concatenated;
        ``aekit encode`` / ``reconstruct`` write such results as they go instead."""
        return np.concatenate([method(chunk) for chunk in open_source(X).chunks()])

    def transform(self, X) -> np.ndarray:
        """Codes of ``X``, shape ``(n_samples, latent_dim)`` (the mean code for variational kinds).
        ``X`` may be a stream (a path or source, as in ``fit``), read chunk by chunk."""
        if is_streamable(X):
            return self._over_stream(self.transform, X)
        x = self._prepare(X)
        return self._map_batches(self.model_.encode, x)

    def inverse_transform(self, Z) -> np.ndarray:
        """Decode codes ``Z`` back to data in the units of the training data."""
        self._check_fitted()
        Z = check_array(Z, name="Z", estimator=type(self).__name__)
        check_n_features(Z, (self.model_.config.latent_dim,), estimator=type(self).__name__ + " decoder", name="Z")
        out = self._map_batches(self.model_.decode, torch.from_numpy(Z))
        return self.scaler_.inverse_transform(out)

    def predict(self, X) -> np.ndarray:
        """Reconstructions of ``X`` in the units of the training data (``X`` may be a stream)."""
        if is_streamable(X):
            return self._over_stream(self.predict, X)
        x = self._prepare(X)
        recon = self._map_batches(lambda b: self.model_.reconstruct(self.model_(b)), x)
        return self.scaler_.inverse_transform(recon)

    def reconstruction_error(self, X, per_feature: bool = False) -> np.ndarray:
        """Squared reconstruction error in the scaled space the model was trained in.

        Returns ``(n_samples,)`` means, or ``(n_samples, n_features)`` with ``per_feature=True``.
        """
        def err(x):
            diff = self.model_.reconstruct(self.model_(x)) - x
            return diff.flatten(1).pow(2) if per_feature else diff.flatten(1).pow(2).mean(dim=1)

        return self._map_batches(err, self._prepare(X))

    def score_samples(self, X) -> np.ndarray:
        """Minus each sample's reconstruction error (negative ELBO for variational kinds): higher = more normal.
        ``X`` may be a stream."""
        if is_streamable(X):
            return self._over_stream(self.score_samples, X)
        return -self._map_batches(lambda x: self.model_.per_sample_error(self.model_(x), x), self._prepare(X))

    @property
    def encoder_(self) -> torch.nn.Module:
        self._check_fitted()
        return self.model_.encoder

    @property
    def decoder_(self) -> torch.nn.Module:
        self._check_fitted()
        return self.model_.decoder
