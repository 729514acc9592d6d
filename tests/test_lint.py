"""`ruff check` (configured in pyproject.toml) is clean over the helpers, the tests and the notebooks' code."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    ruff = Path(sys.executable).with_name("ruff")
    command = [str(ruff)] if ruff.exists() else [shutil.which("ruff") or "ruff"]
    result = subprocess.run([*command, "check", "--output-format", "concise", "."], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    found = result.stdout + result.stderr
    assert result.returncode == 0, f"ruff check found problems (fix them, or `ruff check --fix .`):\n{found}"
