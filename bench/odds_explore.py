"""How AnomalyDetector's defaults were chosen (docs/anomaly.md): ODDS half A only, seeds 100-101.

    .venv/bin/python bench/odds_explore.py --config members=16,ff=0.5,trim=0.1,steps=1000
    .venv/bin/python bench/odds_explore.py --config members=16,ff=0.5,trim=0.0,steps=1000 --seeds 100,101

One ensemble fit per set and seed (``bench/odds.py``'s protocol, other seeds than the benchmark's), several
scores from the same fit; prints the mean ROC-AUC and AP of each over half A. Half B is never read here.
An exploration script kept as it was run, not library code.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import odds  # noqa: E402  (bench/odds.py: the sets, the halves, the split)


def classical(X_tr, X_te, seed):
    """Reference scores in the raw (standardised) space: kNN (PyOD's default, k=5, largest), ECOD, IForest."""
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import NearestNeighbors

    from aekit.applications._tails import TailModel

    nn_ = NearestNeighbors(n_neighbors=5).fit(X_tr)
    return {"knn_raw": nn_.kneighbors(X_te, 5)[0][:, -1],
            "ecod_raw": _ecod(X_tr, X_te),
            "iforest": -IsolationForest(random_state=seed).fit(X_tr).score_samples(X_te)}


def _ecod(X_tr, X_te):
    from aekit.applications._tails import TailModel

    left, right = TailModel().fit(X_tr).neg_log_tails(X_te)
    return np.maximum(left.sum(1), right.sum(1))


def ensemble_scores(X_tr, X_te, seed, cfg):
    from aekit.applications._ensemble import fit_ensemble
    from aekit.applications._tails import TailModel

    model = fit_ensemble(X_tr, seed=seed, n_members=cfg["members"], feature_fraction=cfg["ff"], trim=cfg["trim"],
                         steps=cfg["steps"], learning_rate=cfg.get("lr", 1e-3))
    R_tr, Z_tr = residuals_and_codes(model, X_tr)  # (M, n, F), (M, n, K)
    R_te, Z_te = residuals_and_codes(model, X_te)
    out = {}
    out["mse"] = (R_te ** 2).mean(axis=(0, 2))
    member_tr = (R_tr ** 2).mean(axis=2)  # (M, n)
    out["member_z"] = ((R_te ** 2).mean(axis=2) / np.median(member_tr, axis=1, keepdims=True)).mean(0)
    scale = np.sqrt((R_tr ** 2).mean(axis=1, keepdims=True)) + 1e-3  # (M, 1, F)
    out["feat_z2"] = ((R_te / scale) ** 2).mean(axis=(0, 2))
    med = np.median(R_tr, axis=1, keepdims=True)
    mad = 1.4826 * np.median(np.abs(R_tr - med), axis=1, keepdims=True) + 1e-3
    zr = (R_te - med) / mad
    out["feat_rz2"] = (zr ** 2).mean(axis=(0, 2))
    out["feat_rz_abs"] = np.abs(zr).mean(axis=(0, 2))
    Rb_tr, Rb_te = R_tr.mean(0), R_te.mean(0)  # (n, F): the ensemble's mean reconstruction's residual
    mb = np.median(Rb_tr, 0)
    sb = 1.4826 * np.median(np.abs(Rb_tr - mb), 0) + 1e-3
    zb = np.abs((Rb_te - mb) / sb)
    out["avg_rz2"] = (zb ** 2).mean(1)
    k = max(1, int(round(np.sqrt(zb.shape[1]))))
    out["avg_topk"] = np.sort(zb, 1)[:, -k:].mean(1)
    out["avg_max"] = zb.max(1)
    tm = TailModel().fit(Rb_tr)
    out["avg_tails"] = tm.score(Rb_te)
    # tails per member, averaged
    out["member_tails"] = np.mean([TailModel().fit(R_tr[m]).score(R_te[m]) for m in range(len(R_tr))], 0)
    out["xz_fisher"] = TailModel().fit(np.hstack([X_tr, Rb_tr, Z_tr.transpose(1, 0, 2).reshape(len(X_tr), -1)])).score(
        np.hstack([X_te, Rb_te, Z_te.transpose(1, 0, 2).reshape(len(X_te), -1)]))
    # code term: distance of the code from the training codes, per member (diagonal, robust), averaged
    zm = np.median(Z_tr, 1, keepdims=True)
    zs = 1.4826 * np.median(np.abs(Z_tr - zm), 1, keepdims=True) + 1e-3
    code = (((Z_te - zm) / zs) ** 2).sum(2)  # (M, n)
    code_tr = (((Z_tr - zm) / zs) ** 2).sum(2)
    out["code"] = (code / np.median(code_tr, 1, keepdims=True)).mean(0)
    rtr = ((R_tr - med) / mad) ** 2
    res_tr = rtr.mean(2)
    res_te = (zr ** 2).mean(2)
    out["rz2+code"] = (res_te / np.median(res_tr, 1, keepdims=True)
                       + code / np.median(code_tr, 1, keepdims=True)).mean(0)
    xr = TailModel().fit(np.hstack([X_tr, Rb_tr]))
    out["xr_fisher"] = xr.score(np.hstack([X_te, Rb_te]))
    left, right = xr.neg_log_tails(np.hstack([X_te, Rb_te]))
    out["xr_ecod"] = np.maximum(left.sum(1), right.sum(1))
    out["r_fisher"] = TailModel().fit(Rb_tr).score(Rb_te)
    out["x_fisher"] = TailModel().fit(X_tr).score(X_te)
    out["seconds"] = None
    return out


def residuals_and_codes(model, X: np.ndarray, batch: int = 2048):
    """Per member: ``(residuals (M, n, F), codes (M, n, K))`` of scaled ``X`` as float64 numpy arrays."""
    import torch

    model.eval()
    res, codes = [], []
    x_all = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    with torch.no_grad():
        for i in range(0, len(X), batch):
            x = x_all[i:i + batch]
            out = model(x)
            res.append(x.unsqueeze(0) - out["logits"])
            codes.append(out["code"])
    return torch.cat(res, 1).double().numpy(), torch.cat(codes, 1).double().numpy()


def rank(s):
    from scipy.stats import rankdata

    return rankdata(s) / len(s)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--config", default="members=16,ff=0.5,trim=0.1,steps=1000")
    p.add_argument("--seeds", default="100,101")
    p.add_argument("--sets", default=",".join(odds.HALVES["A"]))
    p.add_argument("--combos", default="")
    args = p.parse_args(argv)
    cfg = {k: float(v) if "." in v else int(v) for k, v in (kv.split("=") for kv in args.config.split(","))}
    odds.one_thread()
    sets = [s for s in args.sets.split(",") if s]
    assert all(s in odds.HALVES["A"] for s in sets), "the exploration reads half A only"
    res: dict = {}
    for name in sets:
        X, y = odds.load_set(name)
        for seed in [int(s) for s in args.seeds.split(",")]:
            X_tr, X_te, y_te = odds.split(X, y, seed)
            t = time.perf_counter()
            scores = ensemble_scores(X_tr, X_te, seed, cfg)
            secs = time.perf_counter() - t
            scores.pop("seconds")
            scores.update(classical(X_tr, X_te, seed))
            for a, b in [("xr_fisher", "knn_raw"), ("avg_tails", "knn_raw"), ("r_fisher", "knn_raw"),
                         ("xr_fisher", "iforest")]:
                scores[f"rank({a}+{b})"] = rank(scores[a]) + rank(scores[b])
            folder = os.path.join(odds.BENCH, "out", "explore-scores", args.config)
            os.makedirs(folder, exist_ok=True)
            np.savez(os.path.join(folder, f"{name}-{seed}.npz"), y=y_te, **scores)
            for key, s in scores.items():
                m = odds.metrics(y_te, s)
                res.setdefault(key, {}).setdefault(name, []).append((m["roc_auc"], m["ap"]))
            print(name, seed, f"{secs:.1f}s", {k: round(v[name][-1][0], 3) for k, v in res.items()}, flush=True)
    print("CFG", cfg)
    for key, per in res.items():
        auc = np.mean([np.mean([a for a, _ in v]) for v in per.values()])
        ap = np.mean([np.mean([b for _, b in v]) for v in per.values()])
        print(f"{key:28s} auc {auc:.4f} ap {ap:.4f} ", {n: round(float(np.mean([a for a, _ in v])), 3)
                                                        for n, v in per.items()})
    with open(os.path.join(odds.BENCH, "out", f"explore-{args.config}.json"), "w") as f:
        json.dump({"config": cfg, "results": res}, f)


if __name__ == "__main__":
    main()
