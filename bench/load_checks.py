"""What the model-file checks (checksum, header schema, meta-device shape check) cost at save and load.

Runs ``save`` and ``aekit.load`` of one MNIST-sized dense model (784-512-256-32) under two source trees,
interleaved round by round (this machine's cores are shared: compare the ratio, not the seconds):

    .venv/bin/python bench/load_checks.py /work/main/src src
"""
import json
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time, tempfile, os
sys.path.insert(0, sys.argv[1])
import numpy as np, torch, aekit
torch.set_num_threads(1)
X = np.random.default_rng(0).random((256, 784), dtype=np.float32)
est = aekit.AutoEncoder(hidden=(512, 256), latent_dim=32, epochs=1, random_state=0, device="cpu").fit(X)
path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
saves, loads = [], []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter(); est.save(path, overwrite=True); saves.append(time.perf_counter() - t)
    t = time.perf_counter(); aekit.load(path); loads.append(time.perf_counter() - t)
print(json.dumps({"save": sorted(saves)[len(saves) // 2], "load": sorted(loads)[len(loads) // 2],
                  "mb": os.path.getsize(path) / 1e6}))
"""


def main(trees, rounds=3, repeats=15):
    results = {t: [] for t in trees}
    for _ in range(rounds):
        for tree in trees:
            out = subprocess.run([sys.executable, "-c", CHILD, tree, str(repeats)], capture_output=True, text=True,
                                 check=True, cwd=tempfile.gettempdir())
            results[tree].append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = trees[0]
    for tree in trees:
        save = sorted(r["save"] for r in results[tree])[rounds // 2]
        load = sorted(r["load"] for r in results[tree])[rounds // 2]
        ref_s = sorted(r["save"] for r in results[base])[rounds // 2]
        ref_l = sorted(r["load"] for r in results[base])[rounds // 2]
        print(f"{tree:>20}: file {results[tree][0]['mb']:.2f} MB, save {save * 1e3:7.2f} ms ({save / ref_s:.2f}x), "
              f"load {load * 1e3:7.2f} ms ({load / ref_l:.2f}x)")


if __name__ == "__main__":
    main(sys.argv[1:] or ["src"])
