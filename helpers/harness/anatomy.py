"""The parts every notebook shares, generated from one place, and the checks of a notebook's anatomy.

    python -m helpers.harness.anatomy            # report what is off in every notebook
    python -m helpers.harness.anatomy --fix      # rewrite the badge row and the bootstrap cell where they differ

The badge URLs and the Colab install come from ``helpers.env`` (REPO, REF), so moving the repository
means editing one line there and running ``--fix``.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

from helpers import env

BOOTSTRAP = f'''# Colab only: install this course's helpers package. Anywhere else this cell does nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "{env.pip_spec()}"], check=True)'''

# Machine paths that must never appear in a committed notebook (sources or outputs).
MACHINE_PATH = re.compile(r"(/root/|/home/\w+/|/tmp/\S*\w|/work/|/Users/\w+/|[A-Z]:\\\\Users\\\\)")
REQUIRED_HEADINGS = ("## Setup", "## What you learned", "## Exercises")


def badge_row(path: str, needs_tfx: bool = False) -> str:
    """The markdown badge row for the notebook at ``path`` (relative to the repository root): "Open in Colab"
    for a notebook that runs on Colab's stock runtime; for one that ``needs_tfx`` (it stops there, see
    ``needs_tfx``), a "runs locally" badge pointing at the README's set-up instead."""
    if needs_tfx:
        first = (f"[![Runs locally: needs the TFX libraries](https://img.shields.io/badge/runs-locally%20(TFX)-2b6cb0)]"
                 f"({env.github_url('README.md')}#using-the-notebooks)")
    else:
        first = f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({env.colab_url(path)})"
    return first + (f" [![View on GitHub](https://img.shields.io/badge/view%20on-GitHub-181717?logo=github)]"
                    f"({env.github_url(path)})")


def needs_tfx(cells: list) -> bool:
    """Whether a notebook stops on Colab for lack of the TFX libraries: a code cell of its Setup section
    (before the ``parameters`` cell) calls ``env.require_tfx()``."""
    for cell in cells:
        if "parameters" in _tags(cell):
            return False
        if cell.get("cell_type") == "code" and "env.require_tfx()" in _source(cell):
            return True
    return False


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def problems(path: Path, root: Path) -> list[str]:
    """Everything off in one notebook's anatomy; an empty list means it is well-formed."""
    from helpers.harness.runner import learner_copy

    rel = path.resolve().relative_to(root.resolve()).as_posix()
    text = path.read_text()
    nb = json.loads(text)
    cells = nb.get("cells", [])
    code = [c for c in cells if c["cell_type"] == "code"]
    out = []
    if not cells or cells[0]["cell_type"] != "markdown" or not _source(cells[0]).startswith("# "):
        out.append("the first cell must be markdown with an H1 title and a one-line objective")
    elif len(_source(cells[0]).strip().splitlines()) < 2:
        out.append("the title cell needs a one-line objective under the H1")
    if len(cells) < 2 or _source(cells[1]).strip() != badge_row(rel, needs_tfx(cells)):
        out.append("the second cell must be the badge row for this path (python -m helpers.harness.anatomy --fix)")
    if not code or _source(code[0]).strip() != BOOTSTRAP:
        out.append("the first code cell must be the bootstrap cell (python -m helpers.harness.anatomy --fix)")
    params = [i for i, c in enumerate(code) if "parameters" in _tags(c)]
    if len(params) != 1:
        out.append(f"exactly one code cell must be tagged 'parameters' (found {len(params)})")
    else:
        src = _source(code[params[0]])
        try:
            body = ast.parse(src).body
        except SyntaxError as exc:
            body = []
            out.append(f"the parameters cell does not parse: {exc}")
        if any(not isinstance(n, (ast.Assign, ast.AnnAssign)) for n in body):
            out.append("the parameters cell may hold only assignments (papermill overrides them)")
        setup_at = next((i for i, c in enumerate(cells) if _source(c).strip().startswith("## Setup")), None)
        if setup_at is None or cells.index(code[params[0]]) < setup_at:
            out.append("the parameters cell must come after the Setup section's cells")
    headings = [line.strip() for c in cells if c["cell_type"] == "markdown" for line in _source(c).splitlines()]
    for h in REQUIRED_HEADINGS:
        if not any(line == h or line.startswith(h + " ") for line in headings):
            out.append(f"missing the heading {h!r}")
    if nb.get("metadata", {}).get("kernelspec", {}).get("name") != "python3":
        out.append("kernelspec must be 'python3'")
    # An assignment's learner copy skips its cells from the first exercise on (they are stored unrun).
    skip_allowed = learner_copy(path)
    for i, c in enumerate(code):
        if "sys.argv" in _source(c):
            out.append(f"code cell {i} reads sys.argv; use the parameters cell")
        if c.get("execution_count") is None and not (skip_allowed and "nbval-skip" in _tags(c)):
            out.append(f"code cell {i} was never executed (commit notebooks with their outputs)")
        if any(o.get("output_type") == "error" for o in c.get("outputs", [])):
            out.append(f"code cell {i} has a stored error")
        if "nbval-ignore-output" in _tags(c) and "assert " not in _source(c):
            out.append(f"code cell {i} is tagged nbval-ignore-output but asserts nothing about its result")
        if "nbval-skip" in _tags(c) and not skip_allowed:
            out.append(f"code cell {i} is tagged nbval-skip: every cell must run under nbval")
    match = MACHINE_PATH.search(text)
    if match:
        out.append(f"a machine path appears in the notebook: {match.group(0)!r}")
    return out


def fix(path: Path, root: Path) -> bool:
    """Rewrite the badge row and the bootstrap cell of one notebook; True if it changed."""
    rel = path.resolve().relative_to(root.resolve()).as_posix()
    nb = json.loads(path.read_text())
    cells, changed = nb["cells"], False
    badges = badge_row(rel, needs_tfx(cells))
    if len(cells) > 1 and cells[1]["cell_type"] == "markdown" and _source(cells[1]).strip() != badges:
        cells[1]["source"] = badges
        changed = True
    code = [c for c in cells if c["cell_type"] == "code"]
    if code and _source(code[0]).strip() != BOOTSTRAP and "google.colab" in _source(code[0]):
        code[0]["source"] = BOOTSTRAP
        changed = True
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed


def main(argv: list[str] | None = None) -> int:
    from helpers.harness.runner import discover

    parser = argparse.ArgumentParser(prog="python -m helpers.harness.anatomy", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebook files (default: every notebook)")
    parser.add_argument("--fix", action="store_true", help="rewrite badge rows and bootstrap cells")
    args = parser.parse_args(argv)
    root = env.repo_root()
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no notebook at {', '.join(missing)}")
    bad = 0
    for nb in [p.resolve() for p in args.notebooks] or discover(root):
        if args.fix and fix(nb, root):
            print(f"fixed {nb.relative_to(root)}")
        for p in problems(nb, root):
            bad += 1
            print(f"{nb.relative_to(root)}: {p}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
