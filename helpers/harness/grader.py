"""Grade your own assignment, as the course's grader would: a score per exercise and a total.

    make grade NB=course2_data/C2_W1_Assignment_Data_Validation.ipynb
    python -m helpers.harness.grader course2_data/C2_W1_Assignment_Data_Validation.ipynb [--cell-timeout 120]

The learner's copy is executed headlessly in a fresh kernel, from its own folder, with the offline guard on.
Before that:

- the files an earlier run left in ``outputs/<notebook>/`` are deleted, so a stale file cannot pass a check;
- every cell the learner must not edit (all but the exercise cells) is restored from the released learner
  copy, which is regenerated from the solution, as nbgrader restores its locked cells: editing a check
  cannot pass it. The grader says which cells it restored.

The run keeps going past a failing cell, so every later exercise is still graded as far as it can be; a cell
that runs longer than the time limit is interrupted and its exercise fails with that reason. Each exercise is
worth one point and gets the verdict of its check cell (``✓ Exercise N passed ...`` / ``✗ Exercise N: ...``);
a check cell that could not give one (its exercise left as the stub, a name never defined, a time-out) is a
failed exercise with the reason. The score table is printed and written with the executed notebook to
``build/grades/``. The exit status is 0 only for a full score.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from helpers import env
from helpers.harness import assignments

VERDICT = re.compile(r"^([✓✗]) Exercise (\d+)(?: passed)?:?\s*(.*)$")


@dataclass
class Grade:
    """One exercise's result."""

    exercise: int
    todo: str
    points: int
    verdict: str
    hint: str = ""


def released_copy(path: Path, root: Path):
    """The learner copy as released: regenerated from its solution in ``<course>/solutions/``."""
    import nbformat

    solution = path.parent / "solutions" / path.name
    if path.parent.name == "solutions" or not solution.is_file():
        raise FileNotFoundError(f"{path} is not an assignment's learner copy (no solutions/{path.name} beside it); "
                                "grade a notebook such as course2_data/C2_W1_Assignment_Data_Validation.ipynb")
    return nbformat.reads(assignments.render(solution, root), as_version=4), solution


def restore_locked_cells(nb, released, exercise_ids: set[str]) -> list[str]:
    """Put back, by cell id, every released code cell that is not an exercise cell (edited or deleted by the
    learner); cells the learner added, and markdown, stay as they are. Return what was restored."""
    restored = []
    for index, cell in enumerate(released.cells):
        if cell.cell_type != "code" or cell.get("id") in exercise_ids:
            continue
        ids = [c.get("id") for c in nb.cells]
        if cell.get("id") in ids:
            mine = nb.cells[ids.index(cell.get("id"))]
            if mine.source != cell.source or mine.cell_type != cell.cell_type:
                nb.cells[ids.index(cell.get("id"))] = cell.copy()
                restored.append(f"cell {index} (edited)")
        else:
            before = released.cells[index - 1].get("id") if index else None
            nb.cells.insert(ids.index(before) + 1 if before in ids else 0, cell.copy())
            restored.append(f"cell {index} (deleted)")
    return restored


def _text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") in ("execute_result", "display_data"):
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def _errors(cell) -> list[tuple[str, str]]:
    return [(o.get("ename", ""), o.get("evalue", "")) for o in cell.get("outputs", [])
            if o.get("output_type") == "error"]


def score(nb, todos: dict[int, str], cell_timeout: int) -> list[Grade]:
    """The grade of each exercise from an executed notebook: its check's verdict, or why there is none."""
    verdicts: dict[int, tuple[bool, str, str]] = {}
    trouble: dict[int | None, tuple[str, str]] = {}
    current = None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found = assignments.EXERCISE.findall(cell.source)
            if found:
                current = int(found[-1][0])
            continue
        if cell.cell_type != "code":
            continue
        lines = _text(cell).splitlines()
        for i, line in enumerate(lines):
            match = VERDICT.match(line.strip())
            if match:
                hint = lines[i + 1].strip().removeprefix("Hint:").strip() if i + 1 < len(lines) and \
                    lines[i + 1].strip().startswith("Hint:") else ""
                verdicts[int(match.group(2))] = (match.group(1) == "✓", match.group(3), hint)
        for ename, evalue in _errors(cell):
            trouble.setdefault(current, (ename, evalue))
    grades = []
    for number, todo in sorted(todos.items()):
        if number in verdicts:
            ok, message, hint = verdicts[number]
            grades.append(Grade(number, todo, int(ok), ("passed: " if ok else "") + message, hint))
            continue
        ename, evalue = trouble.get(number) or trouble.get(None) or ("", "")
        if ename == "NotImplementedError":
            reason, hint = "not attempted: the exercise cell still raises NotImplementedError", "replace the stub"
        elif ename == "NameError":
            name = re.search(r"name '(\w+)' is not defined", evalue)
            reason = "run the exercise cell above first" + (f" (`{name.group(1)}` is not defined)" if name else "")
            hint = "run the notebook's cells in order from the top; the check needs what the exercises define"
        elif ename in ("KeyboardInterrupt", "CellTimeoutError", "DeadKernelError"):
            reason = f"stopped after {cell_timeout} s: a cell did not finish (a loop that never ends?)"
            hint = "make the exercise finish; the grader gives each cell a time limit"
        elif ename:
            reason = f"a cell raised {ename}: {evalue[:200]}"
            hint = "run the notebook top to bottom and fix the first error"
        else:
            reason, hint = "no verdict: the check cell gave none", "do not remove the check cell's last line"
        grades.append(Grade(number, todo, 0, reason, hint))
    return grades


def grade(path: Path, cell_timeout: int = 120, build: Path | None = None, root: Path | None = None) -> dict:
    """Grade one learner copy; return the report (also written to ``build/grades/<name>.json``)."""
    import nbformat
    from nbclient import NotebookClient

    from helpers.harness import runner

    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}")
    root = root or path.parent.parent  # <root>/<course folder>/<notebook>
    released, solution_path = released_copy(path, root)
    solution = nbformat.read(solution_path, as_version=4)
    regions = assignments.exercises(solution, solution_path.name)
    nb = nbformat.read(path, as_version=4)
    restored = restore_locked_cells(nb, released, {solution.cells[i].get("id") for i in regions})
    todos = dict(regions.values())
    stale = path.parent / "outputs" / path.stem
    if stale.exists():
        shutil.rmtree(stale)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    try:
        log = runner.offline_guard(env.repo_root())  # the guard lives in the checkout that holds helpers
    except FileNotFoundError:  # helpers installed from a wheel: no guard to load
        log = None
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3", allow_errors=True,
                            interrupt_on_timeout=True, record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except Exception as error:  # a kernel that died: what ran so far is graded
        print(f"grader: the run stopped early ({type(error).__name__}: {error})", file=sys.stderr)
    grades = score(nb, todos, cell_timeout)
    build = build or Path.cwd() / "build" / "grades"
    build.mkdir(parents=True, exist_ok=True)
    report = {"notebook": path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name,
              "score": sum(g.points for g in grades), "out_of": len(grades), "restored": restored,
              "network": log.read_text().strip()[:1000] if log else "",
              "exercises": [asdict(g) for g in grades]}
    (build / f"{path.stem}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    nbformat.write(nb, build / path.name)
    return report


def table(report: dict) -> str:
    """The score table a learner reads."""
    lines = [f"{report['notebook']}: {report['score']} / {report['out_of']}", "",
             "| Exercise | Points | Verdict | Hint |", "|---:|---:|---|---|"]
    for g in report["exercises"]:
        lines.append(f"| {g['exercise']} | {g['points']} / 1 | {g['verdict'].replace('|', '/')} | "
                     f"{g['hint'].replace('|', '/')} |")
    if report["network"]:
        lines += ["", "The notebook tried to reach the network (labs must not): " + report["network"][:300]]
    if report["restored"]:
        lines += ["", "Restored from the released copy before grading (edit only the exercise cells): "
                  + ", ".join(report["restored"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.harness.grader", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=Path, help="an assignment's learner copy")
    parser.add_argument("--cell-timeout", type=int, default=120, help="seconds one cell may run (default 120)")
    args = parser.parse_args(argv)
    try:
        report = grade(args.notebook, args.cell_timeout)
    except FileNotFoundError as error:
        print(f"grader: {error}", file=sys.stderr)
        return 2
    print(table(report))
    print(f"\nwritten: build/grades/{args.notebook.stem}.json")
    return 0 if report["score"] == report["out_of"] else 1


if __name__ == "__main__":
    sys.exit(main())
