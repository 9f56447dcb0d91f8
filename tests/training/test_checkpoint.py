"""The training state and its checkpoints: Adam's state dict, learning-rate schedulers, a folder that belongs
to one run, keep-last-K, leftovers, on_batch_end, and the CLI's --resume."""
import json

import numpy as np
import pytest
import torch

from aekit import AutoEncoder
from aekit.cli import main
from aekit.exceptions import CheckpointError
from aekit.training import Callback, TrainConfig, Trainer
from aekit.training.checkpoint import Checkpointer
from aekit.training.optim import Adam

SETTINGS = dict(hidden=(8,), latent_dim=2, epochs=4, batch_size=50, random_state=0, device="cpu")


def test_adam_state_dict_round_trip_continues_exactly():
    g = torch.Generator().manual_seed(0)
    grads = [[torch.randn(4, 3, generator=g), torch.randn(3, generator=g)] for _ in range(6)]

    def run(params, opt, steps):
        for gr in steps:
            for p, gp in zip(params, gr):
                p.grad = gp.clone()
            opt.step()

    a = [torch.ones(4, 3, requires_grad=True), torch.zeros(3, requires_grad=True)]
    opt_a = Adam(a, lr=0.01)
    run(a, opt_a, grads)
    b = [torch.ones(4, 3, requires_grad=True), torch.zeros(3, requires_grad=True)]
    opt_b = Adam(b, lr=0.01)
    run(b, opt_b, grads[:3])
    saved = opt_b.state_dict()
    c = [p.detach().clone().requires_grad_() for p in b]
    opt_c = Adam(c, lr=0.5)
    opt_c.load_state_dict(saved)
    run(c, opt_c, grads[3:])
    assert all(torch.equal(x, y) for x, y in zip(a, c)) and opt_c.lr == 0.01
    with pytest.raises(ValueError, match="holds 2 parameters, this optimizer has 1"):
        Adam([torch.ones(1, requires_grad=True)]).load_state_dict(saved)


def test_torch_lr_schedulers_drive_aekits_adam():
    p = torch.ones(2, requires_grad=True)
    opt = Adam([p], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    p.grad = torch.ones(2)
    opt.step()
    sched.step()
    assert opt.lr == pytest.approx(0.05)
    before = p.detach().clone()
    opt.step()
    assert torch.all(before - p < 0.051)  # the step used the scheduled rate


def test_on_batch_end_sees_every_step(small_digits):
    from aekit.models import create_model

    seen = []

    class Count(Callback):
        def on_batch_end(self, batch, trainer, model):
            seen.append((trainer.state.epoch, batch))

    model = create_model("dense", input_shape=(64,), latent_dim=2, hidden=(8,))
    Trainer(TrainConfig(epochs=2, batch_size=64), callbacks=[Count()]).fit(model, torch.from_numpy(small_digits[0]))
    assert seen == [(e, b) for e in range(2) for b in range(4)]  # 64, 64, 64, 8


def test_the_same_call_continues_and_other_runs_are_refused(small_digits, tmp_path, one_thread):
    X = small_digits[0]
    plain = AutoEncoder(**SETTINGS).fit(X)
    folder = tmp_path / "ck"
    short = AutoEncoder(**{**SETTINGS, "epochs": 2}).fit(X, checkpoint_dir=tmp_path / "short")
    assert len(short.history_["loss"]) == 2
    first = AutoEncoder(**SETTINGS).fit(X, checkpoint_dir=folder, checkpoint_steps=2, keep_checkpoints=3)
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 3 and names[-1] == "ckpt-e00004-s0000000.safetensors"
    again = AutoEncoder(**SETTINGS).fit(X, checkpoint_dir=folder)  # finished: loads, trains nothing
    assert again.history_["loss"] == first.history_["loss"] == pytest.approx(plain.history_["loss"], abs=0)
    np.testing.assert_array_equal(again.transform(X), plain.transform(X))
    with pytest.raises(CheckpointError, match=r"belong to another run: learning_rate \(0.001 there, 0.01 here\)"):
        AutoEncoder(**{**SETTINGS, "learning_rate": 0.01}).fit(X, checkpoint_dir=folder)
    with pytest.raises(CheckpointError, match="the data differ from those of the run"):
        AutoEncoder(**SETTINGS).fit(X[:150], checkpoint_dir=folder)


def test_a_random_seed_is_kept_for_the_resumed_run(small_digits, tmp_path, one_thread):
    X = small_digits[0]
    a = AutoEncoder(**{**SETTINGS, "random_state": None}).fit(X, checkpoint_dir=tmp_path)
    b = AutoEncoder(**{**SETTINGS, "random_state": None}).fit(X, checkpoint_dir=tmp_path)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_leftovers_of_killed_writes_are_removed(tmp_path):
    (tmp_path / ".ckpt-e00001-s0000000.safetensors.4194305.abcd1234.tmp.safetensors").write_bytes(b"half")  # dead pid
    (tmp_path / "notes.txt").write_text("mine")
    Checkpointer(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_cli_resume_continues_with_the_runs_settings_and_checks_its_data(tmp_path, small_digits, capsys):
    data = tmp_path / "x.npy"
    np.save(data, small_digits[0])
    run = tmp_path / "run"
    assert main(["train", str(data), "--out", str(run), "--epochs", "2", "--hidden", "8", "--seed", "0",
                 "--checkpoint-every", "1", "-q", "--no-report"]) == 0
    saved = json.loads((run / "checkpoints" / "args.json").read_text())
    assert saved["params"]["epochs"] == 2 and saved["checkpoint_every"] == "1"
    assert main(["train", "--resume", str(run), "-q", "--no-report"]) == 0
    assert main(["train", "--resume", str(run), "--epochs", "5"]) == 2
    assert "drop --epochs" in capsys.readouterr().err
    np.save(data, small_digits[0][::-1])  # other data under the same name
    assert main(["train", "--resume", str(run), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "the data differ from those of the run" in err
