"""The assignment mechanism: learner copies generated from solutions with nbgrader's preprocessors."""

import copy
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers import env
from helpers.harness import anatomy, assignments, runner

pytest.importorskip("nbgrader")  # generating learner copies needs it (the Colab profile does not have it)

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = assignments.solution_paths(ROOT)
IDS = [p.name for p in SOLUTIONS]


def _notebook(*cells):
    nb = new_notebook(cells=[new_markdown_cell("# T\n\nobjective"), new_markdown_cell("badges"), *cells])
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


def _fake_repo(tmp_path, nb):
    solution = tmp_path / "course2_data" / "solutions" / "C2_W9_Assignment_Fake.ipynb"
    solution.parent.mkdir(parents=True)
    nbformat.write(nb, solution)
    return solution


GOOD = _notebook(
    new_markdown_cell("### Exercise 1: Double the input"),
    new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                  execution_count=1, outputs=[nbformat.v4.new_output("stream", text="secret\n")]),
    new_code_cell("print(double(2))", execution_count=2, outputs=[nbformat.v4.new_output("stream", text="4\n")]),
    new_markdown_cell("### Exercise 2: Set y to 3"),
    new_code_cell("### BEGIN SOLUTION\ny = 3\n### END SOLUTION\nprint(y)"),
)


@pytest.mark.parametrize("name", ["C2_W1_Assignment_Data_Validation", "C2_W2_Assignment_Feature_Engineering",
                                  "C2_W3_Assignment_Data_Pipeline"])
def test_there_is_a_solution_for_each_assignment(name):
    assert ROOT / f"course2_data/solutions/{name}.ipynb" in SOLUTIONS


def test_a_region_inside_a_module_written_by_writefile_keeps_the_magic_and_the_indent():
    nb = _notebook(
        new_markdown_cell("### Exercise 4: Scale the numeric features"),
        new_code_cell("%%writefile -a outputs/x/module.py\n\n\ndef scale(inputs):\n    outputs = {}\n"
                      "    ### BEGIN SOLUTION\n    outputs['a'] = inputs['a']\n    ### END SOLUTION\n"
                      "    return outputs\n"))
    cell = assignments.learner_copy(nb, "course2_data/C2_W9_Assignment_Fake.ipynb").cells[3]
    assert cell.source.splitlines() == [
        "%%writefile -a outputs/x/module.py", "", "", "def scale(inputs):", "    outputs = {}",
        "    # YOUR CODE HERE", '    raise NotImplementedError("Exercise 4: Scale the numeric features")',
        "    return outputs"]


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_committed_learner_copy_is_exactly_what_the_generator_makes(solution):
    target = assignments.learner_path_of(solution)
    assert target.is_file(), f"{target.name} is missing: run python -m helpers.harness.assignments"
    work = assignments.learner_work(target, solution)
    if work and not env.in_ci():  # a learner solving the copy in place: their work is theirs, not stale
        pytest.skip(f"{target.relative_to(ROOT)} holds your work on exercises {work}: not compared; grade it "
                    f"with `make grade NB={target.relative_to(ROOT)}`")
    assert not work, f"{target.relative_to(ROOT)} holds solved exercises {work}: a committed copy must not"
    assert target.read_text(encoding="utf-8") == assignments.render(solution, ROOT), (
        f"{target.relative_to(ROOT)} is stale: run python -m helpers.harness.assignments")


def _tags(cell):
    return cell.metadata.get("tags", [])


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_learner_copy_keeps_everything_but_solutions_late_outputs_and_badges(solution):
    sol = nbformat.read(solution, as_version=4)
    learner = nbformat.read(assignments.learner_path_of(solution), as_version=4)
    regions = assignments.exercises(sol)
    first = min(regions)
    assert len(learner.cells) == len(sol.cells) and learner.metadata == sol.metadata
    assert any(c.outputs for c in learner.cells[:first] if c.cell_type == "code"), "no output before exercise 1"
    for index, (a, b) in enumerate(zip(sol.cells, learner.cells)):
        assert a.cell_type == b.cell_type and a.get("id") == b.get("id")
        kept_tags = [t for t in _tags(b) if t != assignments.SKIP]  # the solution's tags, in order
        assert {**b.metadata, "tags": kept_tags} == {**a.metadata, "tags": _tags(a)}
        if b.cell_type == "code" and index < first:  # what the learner sees before the first exercise
            assert (b.source, b.outputs, b.execution_count) == (a.source, a.outputs, a.execution_count)
            assert assignments.SKIP not in _tags(b), f"cell {index} is before the first exercise: nbval must run it"
        elif b.cell_type == "code":
            assert b.outputs == [] and b.execution_count is None, f"cell {index} keeps an output"
            assert assignments.SKIP in _tags(b), f"cell {index} (from the first exercise on) must be tagged nbval-skip"
        if index == 1:
            path = assignments.learner_path_of(solution).relative_to(ROOT).as_posix()
            assert b.source == anatomy.badge_row(path, anatomy.needs_tfx(sol.cells))
        elif index in regions:
            number, todo = regions[index]
            assert assignments.BEGIN not in b.source and "raise NotImplementedError(" in b.source
            assert f'"Exercise {number}: {todo}"' in b.source
            inside = a.source.split(f"### {assignments.BEGIN}")[1].split(f"### {assignments.END}")[0]
            for line in filter(str.strip, inside.splitlines()):
                assert line not in b.source.splitlines(), f"solution line leaked into the learner copy: {line!r}"
        elif index == len(sol.cells) - 1:  # the last cell says how to grade the copy
            path = assignments.learner_path_of(solution).relative_to(ROOT).as_posix()
            assert b.source.startswith(a.source.rstrip()) and f"`make grade NB={path}`" in b.source
        else:
            assert a.source == b.source


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_learner_copies_are_left_out_of_make_run_but_pass_the_anatomy_checks(solution):
    learner = assignments.learner_path_of(solution)
    assert runner.learner_copy(learner) and not runner.learner_copy(solution)
    assert learner not in runner.discover(ROOT) and solution in runner.discover(ROOT)
    assert anatomy.problems(learner, ROOT) == []


def test_outputs_before_the_first_exercise_are_kept_and_later_cells_skipped():
    nb = _notebook(
        new_code_cell("x = 2\nprint(x)", execution_count=1, metadata={"tags": ["parameters"]},
                      outputs=[nbformat.v4.new_output("stream", text="2\n")]),
        *copy.deepcopy(GOOD.cells[2:]))
    nb.cells[5].metadata["tags"] = ["nbval-ignore-output"]
    learner = assignments.learner_copy(nb, "course2_data/C2_W9_Assignment_Fake.ipynb")
    assert learner.cells[2] == nb.cells[2]  # source, output, count and tags as in the solution
    assert [(c.execution_count, c.outputs, _tags(c)) for c in learner.cells[4:] if c.cell_type == "code"] == [
        (None, [], ["nbval-skip"]), (None, [], ["nbval-ignore-output", "nbval-skip"]), (None, [], ["nbval-skip"])]
    assert [_tags(c) for c in learner.cells if c.cell_type == "markdown"] == [[], [], [], []]


def test_nbval_skip_and_unrun_cells_pass_the_anatomy_checks_only_in_a_learner_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(env, "repo_root", lambda: tmp_path)
    solution = _fake_repo(tmp_path, GOOD)
    assert assignments.main([]) == 0
    learner = solution.parent.parent / solution.name
    assert not [p for p in anatomy.problems(learner, tmp_path) if "nbval-skip" in p or "never executed" in p]
    nb = nbformat.read(learner, as_version=4)
    nbformat.write(nb, tmp_path / "course2_data" / "C2_W9_Lab_1_Fake.ipynb")  # not a learner copy
    found = anatomy.problems(tmp_path / "course2_data" / "C2_W9_Lab_1_Fake.ipynb", tmp_path)
    assert "code cell 0 is tagged nbval-skip: every cell must run under nbval" in found
    assert "code cell 0 was never executed (commit notebooks with their outputs)" in found
    nb.cells[3].metadata["tags"] = []  # in a learner copy, an unrun cell without the tag is still a problem
    nbformat.write(nb, learner)
    assert "code cell 0 was never executed (commit notebooks with their outputs)" in anatomy.problems(learner, tmp_path)


def test_stubs_name_the_exercise_and_keep_the_indent():
    nb = assignments.learner_copy(GOOD, "course2_data/C2_W9_Assignment_Fake.ipynb")
    assert nb.cells[3].source == ('def double(x):\n    # YOUR CODE HERE\n'
                                  '    raise NotImplementedError("Exercise 1: Double the input")')
    assert nb.cells[6].source == '# YOUR CODE HERE\nraise NotImplementedError("Exercise 2: Set y to 3")\nprint(y)'
    assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")
    assert nb.cells[1].source == anatomy.badge_row("course2_data/C2_W9_Assignment_Fake.ipynb")
    assert "secret" in json.dumps(GOOD) and "secret" not in json.dumps(nb)  # the input is left unchanged


def test_a_long_stub_is_wrapped_under_the_line_limit():
    short, long = assignments.stub(1, "Set y", indent=4), assignments.stub(10, "x" * 95, indent=4)
    assert short == '# YOUR CODE HERE\nraise NotImplementedError("Exercise 1: Set y")'
    assert long.splitlines()[1:] == ["raise NotImplementedError(", f'    "Exercise 10: {"x" * 95}"', ")"]
    assert all(4 + len(line) <= 120 for line in long.splitlines())
    compile(long, "<stub>", "exec")


@pytest.mark.parametrize("cells, message", [
    ([new_markdown_cell("### Exercise 1: x"), new_code_cell("### BEGIN SOLUTION\ny = 1")],
     "cell 3, line 1: '### BEGIN SOLUTION' has no '### END SOLUTION' after it"),
    ([new_markdown_cell("### Exercise 1: x"), new_code_cell("y = 1\n### END SOLUTION")],
     "cell 3, line 2: '### END SOLUTION' without a '### BEGIN SOLUTION' before it"),
    ([new_markdown_cell("### Exercise 1: x"),
      new_code_cell("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION")],
     "cell 3, line 2: a second '### BEGIN SOLUTION' before the '### END SOLUTION' of line 1"),
    ([new_code_cell("### BEGIN SOLUTION\ny = 1\n### END SOLUTION")],
     "cell 2: a solution region before any '### Exercise N: what to do' heading"),
    ([new_markdown_cell("### Exercise 1: x\n### BEGIN SOLUTION\nanswer\n### END SOLUTION")],
     "cell 2: solution markup in a markdown cell"),
    ([new_code_cell("y = 1")], "no '### BEGIN SOLUTION' region; is this a solution notebook?"),
])
def test_markup_errors_are_clear(cells, message):
    with pytest.raises(assignments.MarkupError) as info:
        assignments.learner_copy(_notebook(*cells), "course2_data/x.ipynb", "C2_W9_Assignment_Fake.ipynb")
    assert str(info.value).startswith("C2_W9_Assignment_Fake.ipynb") and message in str(info.value)


def test_cli_writes_then_checks_and_names_a_stale_copy(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(env, "repo_root", lambda: tmp_path)
    solution = _fake_repo(tmp_path, GOOD)
    learner = tmp_path / "course2_data" / solution.name
    assert assignments.main(["--check"]) == 1
    assert "course2_data/C2_W9_Assignment_Fake.ipynb: missing" in capsys.readouterr().out
    assert assignments.main([]) == 0 and learner.is_file()
    assert assignments.main(["--check"]) == 0
    learner.write_text(learner.read_text().replace("Exercise 1: Double", "Exercise 1: Triple"))
    assert assignments.main(["--check"]) == 1
    out = capsys.readouterr().out
    assert "course2_data/C2_W9_Assignment_Fake.ipynb: differs from what its solution generates" in out
    assert "python -m helpers.harness.assignments" in out
    assert assignments.main([]) == 0 and assignments.main(["--check"]) == 0


def test_a_learner_copy_holding_work_is_never_overwritten_without_force(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(env, "repo_root", lambda: tmp_path)
    solution = _fake_repo(tmp_path, GOOD)
    learner = tmp_path / "course2_data" / solution.name
    assert assignments.main([]) == 0
    nb = nbformat.read(learner, as_version=4)
    index = min(assignments.exercises(nbformat.read(solution, as_version=4)))
    nb.cells[index].source = "def double(x):\n    return x * 2"  # the learner solved exercise 1 in place
    nbformat.write(nb, learner)
    mine = learner.read_text()
    assert assignments.learner_work(learner, solution) == [1]
    capsys.readouterr()
    assert assignments.main(["--check"]) == 1
    assert "holds your work on exercises 1 (grade it: make grade NB=course2_data/" in capsys.readouterr().out
    assert assignments.main([]) == 1 and learner.read_text() == mine  # refused: the work survives
    assert "make grade NB=course2_data/C2_W9_Assignment_Fake.ipynb" in capsys.readouterr().out
    assert assignments.main(["--force"]) == 0 and learner.read_text() != mine
    assert assignments.learner_work(learner, solution) == []


def test_cli_reports_a_markup_error_without_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(env, "repo_root", lambda: tmp_path)
    _fake_repo(tmp_path, _notebook(new_markdown_cell("### Exercise 1: x"), new_code_cell("### BEGIN SOLUTION")))
    assert assignments.main([]) == 2
    assert "error: C2_W9_Assignment_Fake.ipynb, cell 3, line 1" in capsys.readouterr().err


def test_a_solution_outside_a_solutions_folder_is_refused(tmp_path):
    with pytest.raises(assignments.MarkupError, match="live in a course's solutions/ folder"):
        assignments.learner_path_of(tmp_path / "course2_data" / "C2_W1_Assignment_X.ipynb")


# A learner copy run top to bottom stops at its first exercise's stub and nowhere before: tests/test_grader.py
# checks it on the runs of the untouched copies it grades (one kernel run per copy instead of two).
