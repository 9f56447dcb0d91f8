"""Experiment tracking as callbacks: TensorBoard and MLflow (``pip install 'aekit[tracking]'``).

Each writes, per epoch, every number of the epoch's logs (loss, val_loss, each loss term such as
reconstruction / kl / sparsity, code_activation, seconds) at step ``epoch + 1``, and once, the run's
parameters: the training settings (TrainConfig) and the model's config, plus any ``params`` given.

>>> from aekit import AutoEncoder
>>> from aekit.training.tracking import TensorBoardCallback
>>> est = AutoEncoder(callbacks=[TensorBoardCallback("runs/tb")])  # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import json
import numbers
import time
from pathlib import Path

from .callbacks import Callback


def run_params(trainer, model, extra=None) -> dict:
    """Flat ``name -> str/number`` of the training settings, the model config and ``extra``."""
    params = {**dataclasses.asdict(trainer.config), **model.config.to_dict(), **(extra or {})}
    return {k: (v if isinstance(v, (numbers.Number, str)) and not isinstance(v, bool) else json.dumps(v, default=repr))
            for k, v in params.items()}


def epoch_metrics(logs: dict) -> dict:
    return {k: float(v) for k, v in logs.items() if isinstance(v, numbers.Number)}


class TensorBoardCallback(Callback):
    """Event files in ``log_dir`` (``tensorboard --logdir DIR``): scalars per epoch, parameters as text."""

    def __init__(self, log_dir, params=None):
        self.log_dir = log_dir
        self.params = params
        self.writer = None

    def on_train_begin(self, trainer, model) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as e:
            raise ImportError(f"TensorBoard logging needs the tracking extra: pip install 'aekit[tracking]' ({e})") from e
        self.writer = SummaryWriter(log_dir=str(self.log_dir))
        table = "\n".join(f"| {k} | {v} |" for k, v in run_params(trainer, model, self.params).items())
        self.writer.add_text("parameters", "| parameter | value |\n|---|---|\n" + table, 0)

    def on_epoch_end(self, epoch: int, logs: dict, trainer, model) -> None:
        for key, value in epoch_metrics(logs).items():
            self.writer.add_scalar(key, value, epoch + 1)

    def on_train_end(self, history: dict, trainer, model) -> None:
        self.writer.close()


class MLflowCallback(Callback):
    """One MLflow run per fit: parameters, per-epoch metrics; ``log_artifact`` adds files afterwards.

    ``tracking_uri``: where runs go (``'file:/path/mlruns'``, ``'sqlite:///mlflow.db'``, ``'http://host:5000'``);
    None is MLflow's own default (``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``). The run is
    finished when training ends; ``run_id`` names it.
    """

    def __init__(self, tracking_uri=None, experiment_name="aekit", run_name=None, params=None):
        self.tracking_uri = tracking_uri
        self.experiment_name = experiment_name
        self.run_name = run_name
        self.params = params
        self.run_id = None

    def _client(self):
        try:
            from mlflow.tracking import MlflowClient
        except ImportError as e:
            raise ImportError(f"MLflow logging needs the tracking extra: pip install 'aekit[tracking]' ({e})") from e
        try:
            return MlflowClient(tracking_uri=self.tracking_uri)
        except Exception as e:  # MlflowException and the store's own errors: one message, not a traceback
            raise ValueError(f"MLflow cannot open the tracking store {self.tracking_uri!r}: "
                             f"{str(e).splitlines()[0]}") from e

    def on_train_begin(self, trainer, model) -> None:
        from mlflow.entities import Param

        self.client = self._client()
        experiment = self.client.get_experiment_by_name(self.experiment_name)
        experiment_id = (experiment.experiment_id if experiment is not None
                         else self.client.create_experiment(self.experiment_name))
        self.run_id = self.client.create_run(experiment_id, run_name=self.run_name).info.run_id
        params = [Param(k, str(v)) for k, v in run_params(trainer, model, self.params).items()]
        self.client.log_batch(self.run_id, params=params)

    def on_epoch_end(self, epoch: int, logs: dict, trainer, model) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, epoch + 1) for k, v in epoch_metrics(logs).items()]
        self.client.log_batch(self.run_id, metrics=metrics)

    def on_train_end(self, history: dict, trainer, model) -> None:
        self.client.set_terminated(self.run_id)

    def log_artifact(self, path, artifact_path=None) -> None:
        """Add a file (the saved model, its report...) to the run of the last fit."""
        if self.run_id is None:
            raise ValueError("no MLflow run yet: log_artifact adds files to the run a fit started; fit first")
        self.client.log_artifact(self.run_id, str(Path(path)), artifact_path)
