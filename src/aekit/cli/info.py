"""``aekit info MODEL``: what a model file holds, read from its header alone."""
from __future__ import annotations

import json

from ._common import add_model_argument


def register(sub) -> None:
    p = sub.add_parser("info", help="describe a saved model", description="Print what a model file holds.")
    add_model_argument(p, help="model file")
    p.add_argument("--json", action="store_true", help="print the whole header as one JSON object (for scripts)")
    p.set_defaults(func=run)


def describe(header: dict) -> list:
    """Human-readable lines about a model file's header: an autoencoder, or a detector and its autoencoder."""
    members = header.get("members") if isinstance(header.get("members"), dict) else {}
    inner = members.get("autoencoder")
    if header.get("class") == "AnomalyDetector" and isinstance(members.get("ensemble"), dict):
        kind = "ensemble"
    else:
        kind = ((inner if isinstance(inner, dict) else header).get("model") or {}).get("kind")
    first = (f"{header.get('class')} ({kind}), aekit {header.get('aekit_version')}, torch {header.get('torch_version')}, "
             f"file format {header.get('format_version')}")
    if header.get("class") != "AnomalyDetector":
        return [first] + _autoencoder_lines(header) + _other_lines(header, KNOWN)
    if isinstance(inner, dict):
        body = ["autoencoder:"] + [f"  {line}" for line in _autoencoder_lines(inner)]
    else:
        ens = members.get("ensemble") or {}
        body = [f"ensemble of {ens.get('n_members')} small dense autoencoders (input shape "
                f"{tuple(header.get('input_shape') or ())})"]
    return [first] + _detector_lines(header) + body + _other_lines(header, KNOWN_DETECTOR)


KNOWN = {"class", "model", "history", "params", "input_shape", "scaling", "feature_names", "format_version",
         "aekit_version", "torch_version"}
KNOWN_DETECTOR = KNOWN | {"members", "detector_format", "threshold", "n_calibration"}


def _detector_lines(header: dict) -> list:
    params = header.get("params") or {}
    rule = (f"alpha {params['alpha']:g} (conformal p-value)" if params.get("alpha") is not None
            else f"contamination {params.get('contamination')}")
    score = params.get("anomaly_score")
    if score == "auto":  # as AnomalyDetector resolves it
        score = "auto: tails" if isinstance((header.get("members") or {}).get("ensemble"), dict) else "auto: joint"
    lines = [f"anomaly score {score}, threshold by {rule}"]
    if isinstance(header.get("threshold"), (int, float)):
        lines.append(f"flags samples whose anomaly score exceeds {-header['threshold']:.5g}; "
                     f"{header.get('n_calibration')} samples held out for calibration")
    return lines


def _autoencoder_lines(header: dict) -> list:
    model = header.get("model") or {}
    cfg = model.get("config") or {}
    lines = [f"input shape {tuple(header.get('input_shape') or ())}, code size "
             f"{cfg.get('latent_dim')}, output {cfg.get('output_activation')}, loss {cfg.get('loss')}, "
             f"scaling {header.get('scaling')}"]
    layers = {k: v for k, v in cfg.items() if k not in ("input_shape", "latent_dim", "output_activation", "loss")}
    if layers:
        lines.append("layers: " + ", ".join(f"{k}={v}" for k, v in layers.items()))
    history = header.get("history") or {}
    if history.get("loss"):
        parts = [f"{len(history['loss'])} epochs", f"loss {history['loss'][-1]:.4f}"]
        if history.get("val_loss"):
            parts.append(f"val_loss {history['val_loss'][-1]:.4f}")
        if isinstance(history.get("best_epoch"), int):
            parts.append(f"best weights from epoch {history['best_epoch'] + 1}")
        if history.get("code_activation"):
            parts.append(f"mean code activation {history['code_activation'][-1]:.4f}")
        lines.append("trained: " + ", ".join(parts))
    options = _training_options(header.get("params") or {}, cfg)
    if options:
        lines.append("training: " + "; ".join(options))
    return lines


def _training_options(params: dict, cfg: dict) -> list:
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
    return options


def _other_lines(header: dict, known: set) -> list:
    """Further keys: short values as they are; long ones only named (``--json`` prints them)."""
    lines, long = [], []
    for key, value in header.items():
        if key in known:
            continue
        text = str(value)
        (long.append(key) if isinstance(value, (dict, list)) or len(text) > 80 else lines.append(f"{key}: {text}"))
    if long:
        lines.append(f"also in the header (see --json): {', '.join(long)}")
    return lines


def run(args) -> None:
    from ..persistence import read_header

    header = read_header(args.model)
    if args.json:
        print(json.dumps(header, indent=2))
        return
    print("\n".join(describe(header)))
