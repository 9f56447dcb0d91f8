"""``aekit info MODEL``: what a model file holds, read from its header alone."""
from __future__ import annotations

import json

from ._common import add_model_argument


def register(sub) -> None:
    p = sub.add_parser("info", help="describe a saved model", description="Print what a model file holds.")
    add_model_argument(p, help="model file")
    p.add_argument("--json", action="store_true", help="print the whole header as JSON")
    p.set_defaults(func=run)


def describe(header: dict) -> list:
    """Human-readable lines about a model file's header."""
    model = header.get("model", {})
    cfg = model.get("config", {})
    history = header.get("history", {})
    lines = [
        f"{header.get('class')} ({model.get('kind')}), aekit {header.get('aekit_version')}, "
        f"torch {header.get('torch_version')}, file format {header.get('format_version')}",
        f"input shape {tuple(header.get('input_shape', []))}, code size {cfg.get('latent_dim')}, "
        f"output {cfg.get('output_activation')}, loss {cfg.get('loss')}, scaling {header.get('scaling')}",
    ]
    layers = {k: v for k, v in cfg.items() if k not in ("input_shape", "latent_dim", "output_activation", "loss")}
    if layers:
        lines.append("layers: " + ", ".join(f"{k}={v}" for k, v in layers.items()))
    if history.get("loss"):
        n = len(history["loss"])
        parts = [f"{n} epochs", f"loss {history['loss'][-1]:.4f}"]
        if history.get("val_loss"):
            parts.append(f"val_loss {history['val_loss'][-1]:.4f}")
        if history.get("code_activation"):
            parts.append(f"mean code activation {history['code_activation'][-1]:.4f}")
        lines.append("trained: " + ", ".join(parts))
    params = header.get("params", {})
    options = []
    if params.get("activity_l1"):
        options.append(f"L1 activity penalty {params['activity_l1']:g} (sparse)")
    if params.get("sparsity_weight"):
        options.append(f"KL sparsity weight {params['sparsity_weight']:g}, target {params.get('sparsity_target'):g}")
    if params.get("noise"):
        options.append(f"{params['noise']} noise {params.get('noise_factor'):g} (denoising)")
    if "beta" in cfg:
        options.append(f"KL weight beta {cfg['beta']:g}" + (f", warm-up {params['beta_warmup']} epochs"
                                                             if params.get("beta_warmup") else ""))
    if options:
        lines.append("training: " + "; ".join(options))
    for key, value in header.items():
        if key not in ("class", "model", "history", "params", "input_shape", "scaling", "feature_names",
                       "format_version", "aekit_version", "torch_version"):
            lines.append(f"{key}: {value}")
    return lines


def run(args) -> None:
    from ..persistence import read_header

    header = read_header(args.model)
    if args.json:
        print(json.dumps(header, indent=2))
        return
    print("\n".join(describe(header)))
