"""Create the peers' virtual environments under bench/.venvs/, one per library, from pinned requirements.

    python bench/peers.py            # create or update the ones that are missing or out of date
    python bench/peers.py --force    # reinstall all

Every install passes ``-c constraints.txt`` (torch==2.13.0, the CPU wheel), so no peer can pull a CUDA torch,
and none touches aekit's own environment (.venv). A venv is up to date when its stamp file is newer than its
requirements file.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import venv

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
VENVS = os.path.join(BENCH, ".venvs")
CONSTRAINTS = os.path.join(REPO, "constraints.txt")
#: venv name -> what it holds (the pins live in bench/requirements-<name>.txt)
PEERS = {
    "keras-tf": "Keras 3 + tensorflow-cpu",
    "keras-jax": "Keras 3 + jax[cpu]",
    "pyod": "PyOD + tqdm + torch (CPU)",
}


def python_of(name: str) -> str:
    return os.path.join(VENVS, name, "bin", "python")


def _stamp(name: str) -> str:
    return os.path.join(VENVS, name, ".installed")


def _requirements(name: str) -> str:
    return os.path.join(BENCH, f"requirements-{name}.txt")


def up_to_date(name: str) -> bool:
    stamp = _stamp(name)
    return os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(_requirements(name))


def create(name: str, force: bool = False) -> str:
    """Create (or bring up to date) one peer venv; return its python."""
    if name not in PEERS:
        raise ValueError(f"unknown peer venv {name!r}; known: {', '.join(PEERS)}")
    if up_to_date(name) and not force:
        return python_of(name)
    path = os.path.join(VENVS, name)
    if not os.path.exists(python_of(name)):
        print(f"[peers] creating {path}", flush=True)
        venv.EnvBuilder(with_pip=True).create(path)
    print(f"[peers] installing {PEERS[name]} into {path} (a few minutes the first time)", flush=True)
    subprocess.run([python_of(name), "-m", "pip", "install", "-q", "-c", CONSTRAINTS, "-r", _requirements(name)],
                   check=True)
    with open(_stamp(name), "w") as f:
        f.write("ok\n")
    return python_of(name)


def ensure(names, force: bool = False) -> dict:
    return {name: create(name, force) for name in names}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(PEERS), help=f"venvs to create (default: all of {', '.join(PEERS)})")
    parser.add_argument("--force", action="store_true", help="reinstall even when up to date")
    args = parser.parse_args(argv)
    for name, python in ensure(args.names, args.force).items():
        print(f"{name}: {python}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
