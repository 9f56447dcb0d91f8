"""Turn the workers' results into medians, ratios, the machine-limit figures, the goals, and a markdown table."""
from __future__ import annotations

import statistics

#: (model, peer, minimum speed-up of aekit over the peer per epoch) from issue 6
SPEED_GOALS = [("tutorial", "keras-jax", 1.7), ("tutorial", "keras-tf", 4.5), ("deep", "keras-jax", 1.5)]
#: the other kinds (issue 15): aekit at least as fast as the fastest Keras backend, faster than the plain loop
KIND_PEERS = (("keras-tf", "keras-jax"), "torch-dataloader")
DESCRIPTIONS = {"tutorial": "784-32-784", "deep": "784-128-64-32-64-128-784",
                "conv-blog": "the Keras blog's conv autoencoder, 4,385 weights, batch 128",
                "conv-io": "keras-io's conv autoencoder, 28,353 weights, batch 128",
                "conv-vae": "keras-io's conv VAE, 134,165 weights, batch 128; BCE summed per image",
                "lstm": "LSTM(64) -> 32 -> LSTM(64) over 28 rows x 28 pixels, batch 128"}
GEMM_FRACTION_GOAL = 0.60   # aekit's epoch at >= 60% of the GEMM-bound speed
SCORING_GOAL = 1.5          # score_samples within 1.5x of the GEMM-bound time
LABELS = {
    "aekit": "aekit",
    "keras-tf": "Keras 3 / TensorFlow (tutorial code)",
    "keras-tf-xla": "Keras 3 / TensorFlow, jit_compile=True",
    "keras-jax": "Keras 3 / JAX",
    "pyod": "PyOD AutoEncoder (set to the workload)",
    "torch-dataloader": "plain PyTorch loop + DataLoader",
    "pca": "scikit-learn PCA (32 components)",
}


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _training_row(runs: list) -> dict:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": "; ".join(r["error"] for r in runs), "runs": len(runs)}
    # Drop each process' first epoch (warm-up: graph tracing, XLA compilation, allocator growth).
    timed = [s for r in ok for s in (r["seconds"][1:] if len(r["seconds"]) > 1 else r["seconds"])]
    median = statistics.median(timed)
    return {
        "seconds_per_epoch": median, "epoch_seconds_all": timed, "samples_per_s": ok[0]["n_train"] / median,
        "train_bce": _median([r["final"]["train_bce"] for r in ok]),
        "val_bce": _median([r["final"]["val_bce"] for r in ok]),
        "train_mse": _median([r["final"]["train_mse"] for r in ok]),
        "val_mse": _median([r["final"]["val_mse"] for r in ok]),
        "peak_rss_mb": _median([r["peak_rss_mb"] for r in ok]),
        "other_load_max": max(r["other_load"] for r in runs), "cpu_wait_max": max(r.get("cpu_wait", 0) for r in ok),
        "runs": len(ok), "failed": len(runs) - len(ok),
        "n_train": ok[0]["n_train"], "versions": ok[0].get("versions"), "threads": ok[0].get("threads"),
        "reported_final_loss": _median([r["loss"][-1] for r in ok if r.get("loss")]),
        "reported_final_val_loss": _median([r["val_loss"][-1] for r in ok if r.get("val_loss")]),
    }


def _gemm_summary(runs: list, model: str) -> dict | None:
    ok = [r["bounds"][model] for r in runs if "error" not in r and model in r.get("bounds", {})]
    if not ok:
        return None
    first = ok[0]
    return {
        "epoch_seconds": _median([b["epoch_seconds"] for b in ok]),
        "train_seconds": _median([b["train_seconds"] for b in ok]),
        "val_seconds": _median([b["val"]["seconds"] for b in ok]),
        "train_flops": first["train_flops"], "train_flops_issue": first["train_flops_issue"],
        "val_flops": first["val"]["flops"], "epoch_flops": first["epoch_flops"],
        "train_gflops": _median([b["train_gflops"] for b in ok]),
        "gemms": [{**g, "seconds": _median([b["gemms"][i]["seconds"] for b in ok]),
                   "gflops": _median([b["gemms"][i]["gflops"] for b in ok])} for i, g in enumerate(first["gemms"])],
        "square_2048_gflops": _median([r["square_2048_gflops"] for r in runs if "error" not in r]),
        "threads": runs[0].get("threads") or {}, "other_load_max": max(r["other_load"] for r in runs),
        "cpu_wait_max": max(r.get("cpu_wait", 0) for r in runs if "error" not in r),
    }


def summarize(runs: list, models: list, impls: list, kind_impls=None) -> dict:
    """``kind_impls``: the implementations that run the non-dense kinds (the others have no row there)."""
    out = {"training": {}, "gemm": {}, "scoring": {}, "memory": {}, "goals": []}
    for model in models:
        mine = [i for i in impls if model in ("tutorial", "deep") or kind_impls is None or i in kind_impls]
        rows = {impl: _training_row([r for r in runs if r["kind"] == "train" and r["model"] == model
                                     and r["impl"] == impl]) for impl in mine}
        base = rows.get("aekit", {}).get("seconds_per_epoch")
        for row in rows.values():
            if base and "seconds_per_epoch" in row:
                row["ratio_to_aekit"] = row["seconds_per_epoch"] / base
        out["training"][model] = rows
        gemm = _gemm_summary([r for r in runs if r["kind"] == "gemm"], model)
        if gemm:
            gemm["aekit_fraction"] = gemm["epoch_seconds"] / base if base else None
            out["gemm"][model] = gemm
        for kind in ("scoring", "memory"):
            found = [r for r in runs if r["kind"] == kind and r.get("model") == model and "error" not in r]
            if found:
                out[kind][model] = found[-1]
    out["goals"] = goals(out)
    return out


def goals(s: dict) -> list:
    result = []
    for model, peer, target in SPEED_GOALS:
        rows = s["training"].get(model, {})
        ratio = rows.get(peer, {}).get("ratio_to_aekit")
        result.append({"goal": f"{model}: aekit >= {target}x faster than {peer} per epoch",
                       "value": ratio, "met": ratio is not None and ratio >= target})
    (kerases, plain) = KIND_PEERS
    for model, rows in s["training"].items():
        if model in ("tutorial", "deep"):
            continue
        ratios = [rows[p]["ratio_to_aekit"] for p in kerases if "ratio_to_aekit" in rows.get(p, {})]
        fastest = min(ratios) if ratios else None
        result.append({"goal": f"{model}: aekit at least as fast as the fastest Keras backend",
                       "value": fastest, "met": fastest is not None and fastest >= 1.0})
        ratio = rows.get(plain, {}).get("ratio_to_aekit")
        result.append({"goal": f"{model}: aekit faster than the plain PyTorch loop", "value": ratio,
                       "met": ratio is not None and ratio > 1.0})
    frac = s["gemm"].get("tutorial", {}).get("aekit_fraction")
    result.append({"goal": f"tutorial: aekit >= {GEMM_FRACTION_GOAL:.0%} of the GEMM bound",
                   "value": frac, "met": frac is not None and frac >= GEMM_FRACTION_GOAL})
    for model, sc in s["scoring"].items():
        ratio = sc["score_samples"]["ratio_to_bound"]
        result.append({"goal": f"{model}: score_samples within {SCORING_GOAL}x of the GEMM bound",
                       "value": ratio, "met": ratio <= SCORING_GOAL})
    for model, mem in s["memory"].items():
        result.append({"goal": f"{model}: training peak RSS <= 1.5 x data + 300 MB ({mem['goal_mb']:.0f} MB)",
                       "value": mem["peak_fit_mb"], "met": mem["peak_fit_mb"] <= mem["goal_mb"]})
    return result


def _fmt(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def _training_table(model: str, rows: dict) -> list:
    lines = [f"### {model} model ({DESCRIPTIONS.get(model, model)})", "",
             "| implementation | s/epoch | samples/s | x aekit | train BCE | val BCE | val MSE | peak RSS MB | CPU wait | other load |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for impl, row in rows.items():
        label = LABELS.get(impl, impl)
        if "error" in row:
            lines.append(f"| {label} | failed: {row['error']} | | | | | | | | |")
            continue
        lines.append(
            f"| {label} | {row['seconds_per_epoch']:.3f} | {row['samples_per_s']:,.0f} | "
            f"{_fmt(row.get('ratio_to_aekit'), '.2f')} | {row['train_bce']:.4f} | {row['val_bce']:.4f} | "
            f"{row['val_mse']:.4f} | {row['peak_rss_mb']:.0f} | {row['cpu_wait_max']:.0%} | "
            f"{row['other_load_max']:.0%} |")
    return lines + [""]


def _limits(model: str, g: dict) -> list:
    shapes = ", ".join(f"{x['kind']} {x['m']}x{x['k']}x{x['n']}: {x['gflops']:.1f}" for x in g["gemms"])
    return [
        f"- {model}: training {g['train_flops'] / 1e9:.1f} GFLOP/epoch in GEMMs "
        f"({g['train_flops_issue'] / 1e9:.1f} counting the first layer's input gradient, which no framework "
        f"computes) + {g['val_flops'] / 1e9:.1f} GFLOP validation; GEMM-bound epoch {g['epoch_seconds']:.3f} s "
        f"(training {g['train_seconds']:.3f} s at {g['train_gflops']:.1f} GFLOP/s); "
        f"aekit reaches {_fmt(g.get('aekit_fraction'), '.0%')} of it (CPU wait {g['cpu_wait_max']:.0%}).",
        f"  - GFLOP/s per GEMM (M x K x N): {shapes}",
    ]


def render(result: dict) -> str:
    s = result["summary"]
    m = result["machine"]
    lines = [f"## Results {result['date']}", "",
             f"Machine: {m['cpu_model']}, {m['cpu_count']} CPUs, {m['mem_total_gb']:.0f} GB; "
             f"command: `{result['command']}`; {result['elapsed_seconds'] / 60:.1f} min.", ""]
    for model, rows in s["training"].items():
        lines += _training_table(model, rows)
    if s["gemm"]:
        any_g = next(iter(s["gemm"].values()))
        lines += [f"Machine limit (torch.mm float32, {any_g['threads'].get('torch')} threads; 2048^3 square: "
                  f"{any_g['square_2048_gflops']:.1f} GFLOP/s):", ""]
        for model, g in s["gemm"].items():
            lines += _limits(model, g)
        lines.append("")
    for model, sc in s["scoring"].items():
        ss, tr = sc["score_samples"], sc["transform"]
        lines.append(f"- scoring {model}, {sc['rows']:,} rows ({sc['array_mb']:.0f} MB): score_samples "
                     f"{ss['seconds']:.2f} s = {ss['rows_per_s']:,.0f} rows/s, {ss['ratio_to_bound']:.2f}x the GEMM "
                     f"bound ({ss['bound_seconds']:.2f} s; first call {ss.get('first_call', float('nan')):.2f} s); "
                     f"transform {tr['seconds']:.2f} s = "
                     f"{tr['rows_per_s']:,.0f} rows/s, {tr['ratio_to_bound']:.2f}x its bound.")
    for model, mem in s["memory"].items():
        lines.append(f"- memory {model}: training on {mem['n_train']:,} x 784 float32 ({mem['array_mb']:.0f} MB): "
                     f"peak RSS {mem['peak_fit_mb']:.0f} MB (after imports {mem['rss_import_mb']:.0f} MB, "
                     f"with the array {mem['rss_data_mb']:.0f} MB; goal {mem['goal_mb']:.0f} MB).")
    lines += ["", "Goals:", ""]
    for g in s["goals"]:
        lines.append(f"- [{'x' if g['met'] else ' '}] {g['goal']}: {_fmt(g['value'], '.2f')}")
    return "\n".join(lines)
