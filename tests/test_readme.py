"""The README's Python quick start runs as written (with fewer epochs)."""
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_python_quick_start_runs(tmp_path, monkeypatch):
    code = re.search(r"## Quick start in Python\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code.replace("epochs=50", "epochs=2"), "README.md", "exec"), {})
    assert (tmp_path / "digits.safetensors").exists()
