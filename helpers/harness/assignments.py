"""Assignments: generate each learner copy from its solution notebook with nbgrader's preprocessors.

    python -m helpers.harness.assignments            # regenerate every learner copy
    python -m helpers.harness.assignments --check    # exit 1 naming each committed learner copy that is stale
    python -m helpers.harness.assignments --force    # also overwrite a copy that holds a learner's work

A solution notebook lives in its course's ``solutions/`` folder, with outputs (the tests run it). Its
code cells mark what the learner writes with nbgrader's markup::

    ### BEGIN SOLUTION
    schema = tfdv.infer_schema(statistics=train_stats)
    ### END SOLUTION

under a markdown heading ``### Exercise N: what to do``. The learner copy (``<course>/<same name>``)
is the solution with each marked region replaced by a stub that raises
``NotImplementedError("Exercise N: what to do")`` (nbgrader's ``ClearSolutions``) and the badge row
pointing at the learner copy. The code cells before the first exercise are the same in both notebooks, so
they keep the solution's outputs: what a learner sees before starting. From the first exercise on, every
code cell has its output cleared (``ClearOutput``) and is tagged ``nbval-skip``, so nbval runs the copy up to
its first exercise, compares those outputs, and skips the rest (a stub raises by design). Nothing else
changes. No nbgrader course directory or database is involved, and running either notebook does not need
nbgrader. The copy's last cell ends with how to grade it (``make grade``, helpers/harness/grader.py).

A copy whose exercise cells are no longer the stubs holds a learner's work: the generator leaves it as it is
(unless ``--force``) and says to grade it instead, and ``--check`` names it apart from a stale copy.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

from helpers.harness.anatomy import _source

BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"  # nbgrader's delimiters, written "### BEGIN SOLUTION"
SKIP = "nbval-skip"  # nbval's tag: the cell is not executed (its stored output, none here, is not compared)
EXERCISE = re.compile(r"^#{1,6}\s+Exercise\s+(\d+)\s*[:.]\s*(\S.*?)\s*$", re.MULTILINE)


class MarkupError(ValueError):
    """A solution notebook whose solution markup cannot be turned into a learner copy."""


def exercises(nb: Any, name: str = "notebook") -> dict[int, tuple[int, str]]:
    """Code cells holding solution regions: cell index -> (exercise number, what to do), markup checked.

    Raises ``MarkupError`` naming the cell and line for a BEGIN without END, an END without BEGIN, a nested
    BEGIN, markup in a markdown cell, a region before any ``### Exercise N: ...`` heading, or a notebook
    without any region.
    """
    found: dict[int, tuple[int, str]] = {}
    current: tuple[int, str] | None = None
    for index, cell in enumerate(nb["cells"]):
        text = _source(cell)
        if cell["cell_type"] == "markdown":
            if BEGIN in text or END in text:
                raise MarkupError(f"{name}, cell {index}: solution markup in a markdown cell; only code cells "
                                  "may hold solution regions")
            headings = EXERCISE.findall(text)
            if headings:
                number, todo = headings[-1]
                current = (int(number), todo.rstrip("."))
            continue
        if cell["cell_type"] != "code":
            continue
        open_at = None
        for number, line in enumerate(text.split("\n"), start=1):
            where = f"{name}, cell {index}, line {number}"
            if BEGIN in line:
                if open_at is not None:
                    raise MarkupError(f"{where}: a second '### {BEGIN}' before the '### {END}' of line {open_at}")
                open_at = number
            elif END in line:
                if open_at is None:
                    raise MarkupError(f"{where}: '### {END}' without a '### {BEGIN}' before it")
                open_at = None
        if open_at is not None:
            raise MarkupError(f"{name}, cell {index}, line {open_at}: '### {BEGIN}' has no '### {END}' after it")
        if BEGIN in text:
            if current is None:
                raise MarkupError(f"{name}, cell {index}: a solution region before any '### Exercise N: what "
                                  "to do' heading (the heading names the exercise in the learner's stub)")
            found[index] = current
    if not found:
        raise MarkupError(f"{name}: no '### {BEGIN}' region; is this a solution notebook?")
    return found


def stub(exercise: int, todo: str, indent: int = 0) -> str:
    """The code that replaces a solution region in the learner copy (wrapped to stay under 120 columns)."""
    message = json.dumps(f"Exercise {exercise}: {todo}", ensure_ascii=False)
    call = f"raise NotImplementedError({message})"
    if indent + len(call) > 116:
        call = f"raise NotImplementedError(\n    {message}\n)"
    return f"# YOUR CODE HERE\n{call}"


def learner_copy(solution: Any, learner_path: str, name: str = "notebook") -> Any:
    """The learner copy of a solution notebook (a NotebookNode; the input is not changed): the code cells
    before the first exercise keep their outputs; from it on, outputs are cleared and cells tagged ``nbval-skip``.

    ``learner_path`` is the copy's path relative to the repository root, for its badge row.
    """
    from nbgrader.preprocessors import ClearOutput, ClearSolutions

    from helpers.harness import anatomy

    nb = copy.deepcopy(solution)
    resources = {"language": nb.metadata.get("kernelspec", {}).get("language", "python")}
    regions = exercises(nb, name)
    for index, (number, todo) in regions.items():
        indent = min(len(line) - len(line.lstrip()) for line in nb.cells[index].source.split("\n") if BEGIN in line)
        clear = ClearSolutions(code_stub={resources["language"]: stub(number, todo, indent)}, enforce_metadata=False)
        nb.cells[index], _ = clear.preprocess_cell(nb.cells[index], resources, index)
    first = min(regions)  # the cells before it are the solution's, unchanged, outputs included
    for index, cell in enumerate(nb.cells[first:], start=first):
        if cell.cell_type != "code":
            continue
        ClearOutput().preprocess_cell(cell, {}, index)
        tags = cell.metadata.setdefault("tags", [])
        if SKIP not in tags:
            tags.append(SKIP)
    if len(nb.cells) < 2 or nb.cells[1].cell_type != "markdown":
        raise MarkupError(f"{name}: the second cell must be the badge row (python -m helpers.harness.anatomy --fix)")
    nb.cells[1].source = anatomy.badge_row(learner_path, anatomy.needs_tfx(nb.cells))
    grade_it = (f"**Grade your work** when you are done: `make grade NB={learner_path}` scores each exercise as the "
                "course's grader would (see the README's *Grade your assignment*).")
    if nb.cells[-1].cell_type == "markdown":
        nb.cells[-1].source = nb.cells[-1].source.rstrip() + "\n\n" + grade_it
    return nb


def solution_paths(root: Path) -> list[Path]:
    """Every solution notebook: ``<course>/solutions/*.ipynb``, sorted."""
    from helpers.harness.runner import COURSES

    return sorted(p for course in COURSES for p in (root / course / "solutions").glob("*.ipynb"))


def learner_path_of(solution_path: Path) -> Path:
    """Where the learner copy of ``solution_path`` goes: the course folder, same file name."""
    if solution_path.parent.name != "solutions":
        raise MarkupError(f"{solution_path.name}: solution notebooks live in a course's solutions/ folder")
    return solution_path.parent.parent / solution_path.name


def render(solution_path: Path, root: Path) -> str:
    """The exact text of the learner copy of ``solution_path`` (as nbformat writes it)."""
    import nbformat

    target = learner_path_of(solution_path)
    nb = nbformat.read(solution_path, as_version=4)
    rel = target.resolve().relative_to(root.resolve()).as_posix()
    text = nbformat.writes(learner_copy(nb, rel, solution_path.name))
    return text if text.endswith("\n") else text + "\n"


STUB = re.compile(r"# YOUR CODE HERE\n\s*raise NotImplementedError\(")


def learner_work(target: Path, solution: Path) -> list[int]:
    """The exercises whose cells in the learner copy ``target`` are no longer the stubs (a learner's work)."""
    import nbformat

    if not target.is_file():
        return []
    sol = nbformat.read(solution, as_version=4)
    mine = {c.get("id"): c.source for c in nbformat.read(target, as_version=4).cells}
    work = set()
    for index, (number, _) in exercises(sol, solution.name).items():
        source = mine.get(sol.cells[index].get("id"))
        if source is not None and not STUB.search(source):
            work.add(number)
    return sorted(work)


def stale(root: Path) -> list[str]:
    """Committed learner copies that differ from what the generator makes (or are missing); a copy that holds
    a learner's work is named as such."""
    out = []
    for solution in solution_paths(root):
        target = learner_path_of(solution)
        rel = target.relative_to(root).as_posix()
        if not target.is_file():
            out.append(f"{rel}: missing")
        elif target.read_text(encoding="utf-8") != render(solution, root):
            work = learner_work(target, solution)
            out.append(f"{rel}: holds your work on exercises {', '.join(map(str, work))} (grade it: make grade "
                       f"NB={rel})" if work else f"{rel}: differs from what its solution generates")
    return out


def main(argv: list[str] | None = None) -> int:
    from helpers import env

    parser = argparse.ArgumentParser(prog="python -m helpers.harness.assignments", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a committed learner copy is not what the generator makes")
    parser.add_argument("--force", action="store_true", help="overwrite learner copies that hold a learner's work")
    args = parser.parse_args(argv)
    root = env.repo_root()
    try:
        if args.check:
            problems = stale(root)
            for line in problems:
                print(line if "holds your work" in line else f"{line} (run: python -m helpers.harness.assignments)")
            return 1 if problems else 0
        refused = 0
        for solution in solution_paths(root):
            target = learner_path_of(solution)
            text = render(solution, root)
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                work = learner_work(target, solution)
                if work and not args.force:
                    rel = target.relative_to(root).as_posix()
                    print(f"left {rel} as it is: it holds your work on exercises {', '.join(map(str, work))}. "
                          f"Grade it with `make grade NB={rel}`; to replace it with a fresh copy, pass --force.")
                    refused += 1
                    continue
                target.write_text(text, encoding="utf-8")
                print(f"wrote {target.relative_to(root)}")
        if refused:
            return 1
    except MarkupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
