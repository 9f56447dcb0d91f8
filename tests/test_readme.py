"""Every command of the README runs verbatim on a fresh clone, twice in a row, in an empty folder.

The rule for what is left out, checked below: a shell line whose comment says ``slow: about N min`` (it
states how long it takes on 2 cores), and the ``make`` lines of "The two commands" (they build the
repository's own .venv; CI runs ``make test`` itself, and ``make demo`` is ``aekit train digits`` with
the defaults, which tests/test_defaults.py holds to beating PCA).
"""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SLOW = re.compile(r"#\s*slow: about \d+ (min|minutes|h)\b")


def blocks(language: str) -> list:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def left_out(line: str) -> bool:
    return bool(SLOW.search(line)) or line.split()[0] == "make"


def shell_lines() -> list:
    lines = [line for block in blocks("sh") for line in block.splitlines() if line.strip()]
    return [line for line in lines if not left_out(line)]


def test_the_rule_leaves_out_only_marked_lines():
    every = [line for block in blocks("sh") for line in block.splitlines() if line.strip()]
    skipped = [line for line in every if left_out(line)]
    assert {line.split()[0] for line in skipped} <= {"make", "aekit"}
    assert all(SLOW.search(line) for line in skipped if line.startswith("aekit"))
    assert any("mnist" in line for line in skipped) and len(shell_lines()) >= 10


@pytest.fixture(scope="module")
def env():
    bin_dir = str(Path(sys.executable).parent)  # the venv's aekit
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1",
            "MPLBACKEND": "Agg"}


def test_python_quick_start_twice(tmp_path, env):
    (code,) = [b for b in blocks("python") if "AutoEncoder(" in b][:1]
    for attempt in (1, 2):
        proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, f"run {attempt}: {proc.stderr[-2000:]}"
    assert (tmp_path / "digits.safetensors").is_file()


def run_line(line: str, env: dict) -> tuple:
    """``(exit status, stderr)`` of one README line in the current folder. A plain ``aekit ...`` line (with at
    most a ``> file`` redirect) runs in this process through ``aekit.cli.main``, as its console script would
    (a process per line spent most of the test importing torch); pipes run in bash."""
    import contextlib
    import io

    from aekit.cli import main

    words = shlex.split(line, comments=True)
    if words[0] != "aekit" or "|" in line or words.count(">") > 1:
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", line], env=env, capture_output=True, text=True)
        # `head` closing the pipe early is the pipe's normal end, not a failure
        ok = proc.returncode == 0 or ("| head" in line and "Traceback" not in proc.stderr)
        return (0 if ok else proc.returncode), proc.stderr
    target = words[words.index(">") + 1] if ">" in words else None
    args = words[1:words.index(">")] if target else words[1:]
    err = io.StringIO()
    with open(target, "w") if target else contextlib.nullcontext(io.StringIO()) as out, \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, err.getvalue()


def test_shell_quick_start_twice(tmp_path, env, monkeypatch, one_thread):
    monkeypatch.chdir(tmp_path)
    for attempt in (1, 2):
        for line in shell_lines():
            code, err = run_line(line, env)
            assert code == 0, f"run {attempt}: {line}\n{err[-2000:]}"
    for name in ("codes.csv", "scores.csv", "report.html", "clean.npy", "grid.png", "digits.npy"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "codes.csv").read_text().startswith("z1,z2\n")
