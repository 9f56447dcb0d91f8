"""How AnomalyDetector's defaults were chosen (docs/anomaly.md): seeds 100-101, not the benchmark's 0-4.

    .venv/bin/python bench/odds_explore.py A     # code size n_features // 4 (the default)
    .venv/bin/python bench/odds_explore.py B     # code size round(sqrt(n_features))
    .venv/bin/python bench/odds_explore.py iforest
    .venv/bin/python bench/odds_explore.py combine   # ways to add the two terms, on AnomalyDetector itself

One autoencoder fit per set and seed, several scores from the same fit; prints the mean ROC-AUC of each.
An exploration script kept as it was run, not library code.
"""
import sys, json, time, glob, os
import numpy as np, scipy.io, torch
torch.set_num_threads(1)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score
from sklearn.decomposition import PCA
from sklearn.covariance import LedoitWolf
from aekit import AutoEncoder

def arch(name, d):
    if name == "A":  # latent ~ d/4, one hidden 2x? 
        k = max(2, d // 4); return dict(hidden=(max(k*2, min(64, d)),), latent_dim=k)
    if name == "B":
        k = max(2, int(round(np.sqrt(d)))); return dict(hidden=(min(64, max(2*k, d)),), latent_dim=k)
    if name == "C":
        k = max(1, d // 8); return dict(hidden=(64, 32), latent_dim=k)
    if name == "E":
        k = max(1, d // 8); return dict(hidden=(min(64, max(2*k, d)),), latent_dim=k)
    if name == "D":  # pyod-like
        return dict(hidden=(64,), latent_dim=32 if d > 32 else max(2, d//2))
def run(cfgname, seeds, only=None):
    res = {}
    for p in sorted(glob.glob('/work/shared/data/odds/*.mat')):
        name = os.path.basename(p)[:-4]
        if only and name not in only: continue
        d = scipy.io.loadmat(p); X = np.asarray(d['X'], float); y = d['y'].ravel().astype(int)
        for seed in seeds:
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, random_state=seed, stratify=y)
            sc = StandardScaler().fit(Xtr); Xtr = sc.transform(Xtr).astype(np.float32); Xte = sc.transform(Xte).astype(np.float32)
            a = arch(cfgname, X.shape[1])
            t = time.time()
            n = len(Xtr); rng = np.random.default_rng(seed); perm = rng.permutation(n); ncal = int(0.2*n)
            cal, tr = perm[:ncal], perm[ncal:]
            est = AutoEncoder(**a, epochs=100, batch_size=min(256, max(32, len(tr)//16)), validation_split=0.15, early_stopping=10, scaling="standard", random_state=seed, weight_decay=0).fit(Xtr[tr])
            ep = len(est.history_["loss"])
            e_te = est.reconstruction_error(Xte, per_feature=True)
            e_tr = est.reconstruction_error(Xtr[tr], per_feature=True)
            scores = {"mse": e_te.mean(1)}
            # per-feature normalised by mean training error
            scores["norm"] = (e_te / (e_tr.mean(0) + 1e-6)).mean(1)
            # residual mahalanobis (LW on training residuals)
            Rtr = est.predict(Xtr[tr]) - Xtr[tr]; Rte = est.predict(Xte) - Xte
            lw = LedoitWolf().fit(Rtr); scores["maha"] = lw.mahalanobis(Rte)
            Ztr = est.transform(Xtr[tr]); Zte = est.transform(Xte)
            lwz = LedoitWolf().fit(Ztr); scores["code"] = lwz.mahalanobis(Zte)
            scores["joint"] = scores["maha"] + scores["code"]
            mtr = lw.mahalanobis(Rtr); ctr = lwz.mahalanobis(Ztr)
            scores["joint_med"] = scores["maha"] / np.median(mtr) + scores["code"] / np.median(ctr)
            ntr = (e_tr / (e_tr.mean(0) + 1e-6)).mean(1)
            scores["norm_code"] = scores["norm"] / np.median(ntr) + scores["code"] / np.median(ctr)
            from sklearn.neighbors import NearestNeighbors
            nn_ = NearestNeighbors(n_neighbors=11).fit(Ztr)
            kte = nn_.kneighbors(Zte, 10)[0][:, -1]; ktr = nn_.kneighbors(Ztr, 11)[0][:, -1]
            scores["knn_code"] = kte
            scores["maha_knn"] = scores["maha"] / np.median(mtr) + kte / np.median(ktr)
            scores["maha_knn_code"] = scores["maha"] / np.median(mtr) + kte / np.median(ktr) + scores["code"] / np.median(ctr)
            nnx = NearestNeighbors(n_neighbors=10).fit(Xtr[tr]); scores["knn_raw"] = nnx.kneighbors(Xte, 10)[0][:, -1]
            k = a["latent_dim"]
            pca = PCA(min(k, X.shape[1])).fit(Xtr); scores["pca_k"] = ((pca.inverse_transform(pca.transform(Xte)) - Xte)**2).mean(1)
            scores["lw_raw"] = LedoitWolf().fit(Xtr).mahalanobis(Xte)
            for key, s in scores.items():
                res.setdefault(key, {}).setdefault(name, []).append(roc_auc_score(yte, s))
            print(name, seed, ep, round(time.time()-t,1), {k_: round(v[name][-1],3) for k_, v in res.items()}, flush=True)
    print("CFG", cfgname)
    for key, per in res.items():
        m = {n: np.mean(v) for n, v in per.items()}
        print(key, round(np.mean(list(m.values())), 4), {n: round(v, 3) for n, v in m.items()})
    return res
def iforest(seeds):
    from sklearn.ensemble import IsolationForest
    res = {}
    for p in sorted(glob.glob('/work/shared/data/odds/*.mat')):
        name = os.path.basename(p)[:-4]; d = scipy.io.loadmat(p); X = np.asarray(d['X'], float); y = d['y'].ravel().astype(int)
        for seed in seeds:
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, random_state=seed, stratify=y)
            sc = StandardScaler().fit(Xtr); Xtr = sc.transform(Xtr); Xte = sc.transform(Xte)
            s = -IsolationForest(random_state=seed, n_jobs=1).fit(Xtr).score_samples(Xte)
            res.setdefault(name, []).append(roc_auc_score(yte, s))
    m = {n: round(np.mean(v), 3) for n, v in res.items()}; print("iforest", np.mean(list(m.values())), m)
def combine():
    """Rules for adding the residual and code terms of the detector as built (`odds_explore.py combine`)."""
    from aekit import AnomalyDetector
    from aekit.applications.anomaly import _codes_and_residuals
    res = {}
    for p in sorted(glob.glob('/work/shared/data/odds/*.mat')):
        name = os.path.basename(p)[:-4]
        d = scipy.io.loadmat(p); X = np.asarray(d['X'], float); y = d['y'].ravel().astype(int)
        for seed in (100, 101):
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.4, random_state=seed, stratify=y)
            sc = StandardScaler().fit(Xtr); Xtr = sc.transform(Xtr).astype(np.float32); Xte = sc.transform(Xte).astype(np.float32)
            det = AnomalyDetector(random_state=seed).fit(Xtr)
            em = det.error_model_
            n = len(Xtr); order = np.random.default_rng(seed).permutation(n); ncal = int(round(0.2 * n)); tr = np.sort(order[ncal:])
            ztr, rtr = _codes_and_residuals(det.autoencoder_, Xtr[tr]); zte, rte = _codes_and_residuals(det.autoencoder_, Xte)
            R_tr, C_tr = em._mahalanobis("residual", rtr), em._mahalanobis("code", ztr)
            R, C = em._mahalanobis("residual", rte), em._mahalanobis("code", zte)
            q = lambda a, v: np.quantile(a, v)
            s = {
                "median_sum": R / np.median(R_tr) + C / np.median(C_tr),
                "q90_sum": R / q(R_tr, .9) + C / q(C_tr, .9),
                "q99_sum": R / q(R_tr, .99) + C / q(C_tr, .99),
                "max_median": np.maximum(R / np.median(R_tr), C / np.median(C_tr)),
                "max_q99": np.maximum(R / q(R_tr, .99), C / q(C_tr, .99)),
                "logsum": np.log(R / np.median(R_tr)) + np.log(C / np.median(C_tr)),
                "zsum": (R - R_tr.mean()) / R_tr.std() + (C - C_tr.mean()) / C_tr.std(),
                "sqrt_zsum": (np.sqrt(R) - np.sqrt(R_tr).mean()) / np.sqrt(R_tr).std() + (np.sqrt(C) - np.sqrt(C_tr).mean()) / np.sqrt(C_tr).std(),
                "residual": R, "code": C,
            }
            for k, v in s.items():
                res.setdefault(k, {}).setdefault(name, []).append(roc_auc_score(yte, v))
            print(name, seed, {k: round(v[name][-1], 3) for k, v in res.items()}, flush=True)
    for k, per in res.items():
        m = {n: np.mean(v) for n, v in per.items()}
        print(k, round(np.mean(list(m.values())), 4), {n: round(v, 3) for n, v in m.items()})


if __name__ == "__main__":  # python bench/odds_explore.py A|B|iforest|combine [sets]
    if sys.argv[1] == "iforest":
        iforest([100, 101])
    elif sys.argv[1] == "combine":
        combine()
    else:
        run(sys.argv[1], [100, 101], sys.argv[2].split(",") if len(sys.argv) > 2 else None)
