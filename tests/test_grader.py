"""The local grader (helpers/harness/grader.py, `make grade`): a score per exercise, cells restored, stale files
cleared, a time limit, and a learner's copy graded as the course's grader would. A tiny assignment made here
(no TensorFlow) covers each rule; the real C2_W1 learner copy is graded once, untouched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.harness import anatomy, assignments, grader

ROOT = Path(__file__).resolve().parent.parent
NAME = "C9_W1_Assignment_Tiny.ipynb"

CHECK = ("from helpers import checks\n"
         "checks.passed({n}, 'ok') if {ok} else checks.failed({n}, 'wrong value', 'look again')")


def _solution() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("# Tiny assignment\n\nTwo exercises."), new_markdown_cell("badges"),
        new_markdown_cell("## Setup"), new_code_cell(anatomy.BOOTSTRAP),
        new_code_cell("import pathlib\nOUT = pathlib.Path('outputs/C9_W1_Assignment_Tiny')\n"
                      "OUT.mkdir(parents=True, exist_ok=True)"),
        new_markdown_cell("### Exercise 1: Set x to 2"),
        new_code_cell("### BEGIN SOLUTION\nx = 2\n### END SOLUTION"),
        new_code_cell(CHECK.format(n=1, ok="x == 2")),
        new_markdown_cell("### Exercise 2: Write y.txt"),
        new_code_cell("### BEGIN SOLUTION\n(OUT / 'y.txt').write_text('y')\n### END SOLUTION"),
        new_code_cell(CHECK.format(n=2, ok="(OUT / 'y.txt').read_text() == 'y'")),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture
def course(tmp_path) -> Path:
    """A checkout-like root with the tiny assignment's solution and its released learner copy."""
    folder = tmp_path / "course9"
    (folder / "solutions").mkdir(parents=True)
    nbformat.write(_solution(), folder / "solutions" / NAME)
    (folder / NAME).write_text(assignments.render(folder / "solutions" / NAME, tmp_path))
    return tmp_path


def _edit(root: Path, change) -> Path:
    path = root / "course9" / NAME
    nb = nbformat.read(path, as_version=4)
    change(nb.cells)
    nbformat.write(nb, path)
    return path


def _points(report: dict) -> list[int]:
    return [g["points"] for g in report["exercises"]]


def _grade(root: Path, path: Path, **kwargs) -> dict:
    return grader.grade(path, build=root / "grades", root=root, **kwargs)


def test_the_untouched_copy_scores_zero_with_a_verdict_each(course):
    report = _grade(course, course / "course9" / NAME)
    assert (report["score"], report["out_of"], report["restored"], report["network"]) == (0, 2, [], "")
    assert all(g["verdict"].startswith("not attempted") for g in report["exercises"]), report
    assert json.loads((course / "grades" / "C9_W1_Assignment_Tiny.json").read_text()) == report


def test_a_solved_exercise_scores_exactly_that_exercise(course):
    path = _edit(course, lambda cells: setattr(cells[6], "source", "x = 1 + 1"))
    report = _grade(course, path)
    assert _points(report) == [1, 0] and report["exercises"][0]["verdict"] == "passed: ok"


def test_full_marks_and_a_wrong_answer_names_the_mistake(course):
    def solve(cells):
        cells[6].source = "x = 3"
        cells[9].source = "(OUT / 'y.txt').write_text('y')"
    report = _grade(course, _edit(course, solve))
    assert _points(report) == [0, 1]
    assert report["exercises"][0]["verdict"] == "wrong value" and report["exercises"][0]["hint"] == "look again"
    report = _grade(course, _edit(course, lambda cells: setattr(cells[6], "source", "x = 2")))
    assert report["score"] == report["out_of"] == 2
    assert grader.main([str(course / "course9" / NAME)]) in (0, 1)  # the CLI runs (its root is the checkout)


def test_an_edited_check_cell_is_restored_and_still_fails(course):
    path = _edit(course, lambda cells: setattr(cells[7], "source", "print('✓ Exercise 1 passed: trust me')"))
    report = _grade(course, path)
    assert report["restored"] == ["cell 7 (edited)"] and _points(report) == [0, 0]
    path = _edit(course, lambda cells: cells.pop(7))  # a deleted check cell comes back too
    assert _grade(course, path)["restored"] == ["cell 7 (deleted)"]


def test_a_stale_output_file_cannot_pass(course):
    stale = course / "course9" / "outputs" / "C9_W1_Assignment_Tiny"
    stale.mkdir(parents=True)
    (stale / "y.txt").write_text("y")  # what an earlier, solved run left behind
    report = _grade(course, course / "course9" / NAME)
    assert _points(report) == [0, 0] and not (stale / "y.txt").exists()


def test_an_endless_loop_is_stopped_and_graded_within_the_limit(course):
    path = _edit(course, lambda cells: setattr(cells[6], "source", "while True:\n    pass"))
    report = _grade(course, path, cell_timeout=5)
    assert report["exercises"][0]["points"] == 0 and "stopped after 5 s" in report["exercises"][0]["verdict"]


def test_only_a_learner_copy_can_be_graded(course):
    with pytest.raises(FileNotFoundError, match="not an assignment's learner copy"):
        grader.grade(course / "course9" / "solutions" / NAME, root=course)


REAL = "C2_W1_Assignment_Data_Validation.ipynb"


def _real_copy(tmp_path: Path, solve: dict[int, str] | None = None, solved: bool = False, name: str = REAL) -> Path:
    """A checkout-like copy of one of course2_data's assignments (C2_W1 unless ``name``): the released learner
    copy, with the exercises in ``solve`` (number -> the code of the solution region) or every exercise
    (``solved``) filled in."""
    shutil.copytree(ROOT / "course2_data" / "solutions", tmp_path / "course2_data" / "solutions",
                    ignore=shutil.ignore_patterns("outputs"))
    path = tmp_path / "course2_data" / name
    shutil.copy(ROOT / "course2_data" / name, path)
    solution = nbformat.read(tmp_path / "course2_data" / "solutions" / name, as_version=4)
    nb = nbformat.read(path, as_version=4)
    ids = [c.get("id") for c in nb.cells]
    for index, (number, _) in assignments.exercises(solution).items():
        source = solution.cells[index].source
        if number in (solve or {}):
            begin, end = source.index("### BEGIN SOLUTION"), source.index("### END SOLUTION")
            source = source[:begin] + solve[number] + source[end + len("### END SOLUTION"):]
        elif not solved:
            continue
        nb.cells[ids.index(solution.cells[index].get("id"))].source = source
    nbformat.write(nb, path)
    return path


def _check_cell_errors(report_dir: Path, name: str = REAL) -> list[str]:
    nb = nbformat.read(report_dir / name, as_version=4)
    return [o.get("ename", "") for c in nb.cells if c.cell_type == "code" and "checks.check_" in c.source
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def test_the_real_solution_scores_full_marks(tmp_path):
    report = grader.grade(_real_copy(tmp_path, solved=True), build=tmp_path / "grades", root=tmp_path)
    assert (report["score"], report["out_of"], report["restored"]) == (11, 11, []), report["exercises"]


def _assert_stops_at_the_first_exercise(report_dir: Path, name: str = REAL) -> None:
    """The released copy, run top to bottom, fails first at its first exercise's stub, and nowhere before."""
    solution = nbformat.read(ROOT / "course2_data" / "solutions" / name, as_version=4)
    number, title = min(assignments.exercises(solution).values())
    nb = nbformat.read(report_dir / name, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and (errors[0].ename, errors[0].evalue) == ("NotImplementedError", f"Exercise {number}: {title}")


def test_the_real_untouched_copy_gets_each_verdict_from_its_check_cell(tmp_path):
    report = grader.grade(_real_copy(tmp_path), build=tmp_path / "grades", root=tmp_path)
    assert (report["score"], report["out_of"]) == (0, 11) and _check_cell_errors(tmp_path / "grades") == []
    _assert_stops_at_the_first_exercise(tmp_path / "grades")
    for g in report["exercises"]:  # the check's own verdict: the grader's fallback reasons never show
        assert g["verdict"].startswith(("run the exercise cell above first (`", "your function still raises")), g
        assert g["hint"].startswith(("run the notebook's cells in order", "replace the stub")), g


def test_a_lazy_split_fails_at_exercise_1_and_later_exercises_name_it(tmp_path):
    lazy = _real_copy(tmp_path, {1: "train_df = eval_df = serving_df = df"}, solved=True)
    report = grader.grade(lazy, build=tmp_path / "grades", root=tmp_path)
    first, *later = report["exercises"]
    assert report["score"] == 0 and "train_df has 10,000 rows, expected 7,000" in first["verdict"], first
    for g in later:
        assert "Exercise 1" in g["verdict"] + g["hint"], g


def test_an_unshuffled_split_and_a_domain_function_that_stops_early_each_fail_where_they_are(tmp_path):
    mistakes = _real_copy(tmp_path, {
        1: ("train_len = int(len(df) * 0.7)\n    eval_len = (len(df) - train_len) // 2\n"
            "    train_df, eval_df = df.iloc[:train_len], df.iloc[train_len:train_len + eval_len]\n"
            "    serving_df = df.iloc[train_len + eval_len:].drop(columns=['readmitted'])\n"),
        8: "tfdv.set_domain(schema, features_list[0], to_domain_name)\n",  # the first feature only
    }, solved=True)
    report = grader.grade(mistakes, build=tmp_path / "grades", root=tmp_path)
    assert _points(report) == [0] + [1] * 6 + [0, 0, 1, 1], report["exercises"]
    assert report["exercises"][0]["verdict"] == "train_df is still in file order: it was not shuffled"
    eight, nine = report["exercises"][7:9]
    assert "do not use the 'metformin' domain" in eight["verdict"], eight
    assert "which no environment fixes" in nine["verdict"] and "an earlier exercise" in nine["hint"], nine


OTHERS = ["C2_W2_Assignment_Feature_Engineering.ipynb", "C2_W3_Assignment_Data_Pipeline.ipynb"]


@pytest.mark.parametrize("name", OTHERS)
def test_the_other_solutions_score_full_marks_and_their_files_do_not_pass_the_untouched_copy(tmp_path, name):
    report = grader.grade(_real_copy(tmp_path, solved=True, name=name), build=tmp_path / "grades", root=tmp_path)
    assert report["score"] == report["out_of"] and report["restored"] == [], report["exercises"]
    stale = tmp_path / "course2_data" / "outputs" / Path(name).stem
    assert any(stale.rglob("*.gz")), "the solved run left its files, as an earlier run of the learner would"
    shutil.copy(ROOT / "course2_data" / name, tmp_path / "course2_data" / name)  # the untouched copy, same folder
    report = grader.grade(tmp_path / "course2_data" / name, build=tmp_path / "grades", root=tmp_path)
    assert report["score"] == 0 and _check_cell_errors(tmp_path / "grades", name) == []
    _assert_stops_at_the_first_exercise(tmp_path / "grades", name)
    for g in report["exercises"]:  # the check's own verdict, not the grader's fallback
        assert g["hint"].startswith(("run the notebook's cells in order", "replace the stub")), g


W2, W3 = OTHERS
EIGHT = " " * 8


def _grade_mistakes(tmp_path: Path, name: str, mistakes: dict[int, str]) -> list[dict]:
    report = grader.grade(_real_copy(tmp_path, mistakes, solved=True, name=name), build=tmp_path / "grades",
                          root=tmp_path)
    assert _check_cell_errors(tmp_path / "grades", name) == []
    return report["exercises"]


def test_c2_w2_statistics_of_one_folder_too_few_buckets_and_no_oov_buckets_each_fail_where_they_are(tmp_path):
    grades = _grade_mistakes(tmp_path, W2, {
        3: ('stats = {split: tfdv.generate_statistics_from_tfrecord(\n'
            '    str(examples_dir / "Split-train" / "*.gz"),\n'
            '    output_path=str(statistics_dir / f"Split-{split}" / "FeatureStats.tfrecord"),\n'
            '    pipeline_options=pipeline_options) for split in splits}\n'),
        6: ("for key in DENSE_FLOAT_FEATURE_KEYS:\n"
            "        outputs[transformed_name(key)] = tft.scale_to_z_score(inputs[key])\n"
            "    for key in RANGE_FEATURE_KEYS:\n"
            "        outputs[transformed_name(key)] = tft.scale_to_0_1(inputs[key])\n"
            "    for key in BUCKET_FEATURE_KEYS:\n"
            "        outputs[transformed_name(key)] = tft.bucketize(inputs[key], 2)\n"),
        7: ("for key in VOCAB_FEATURE_KEYS:\n"
            "        outputs[transformed_name(key)] = tft.compute_and_apply_vocabulary(\n"
            "            inputs[key], top_k=VOCAB_SIZE, vocab_filename=key)\n"),
    })
    assert [g["points"] for g in grades] == [1, 1, 0, 1, 0, 0, 0, 1, 0], grades
    three, five, six, seven, nine = (grades[i - 1] for i in (3, 5, 6, 7, 9))
    assert "the statistics of 'eval' describe 5,787 examples, but the split has 2,858" in three["verdict"], three
    assert "Exercise 3" in five["hint"] and "Exercise 6" in nine["hint"], (five, nine)
    assert "wind_speed_xf uses 2 bucket(s)" in six["verdict"] and "FEATURE_BUCKET_COUNT" in six["hint"], six
    assert "get id -1: there are no OOV buckets" in seven["verdict"], seven
    assert not any("tft." in g["hint"] and "(" in g["hint"].split("tft.", 1)[1][:40] for g in grades), grades


def test_c2_w2_a_schema_from_eval_and_eval_analyzed_on_its_own_each_fail_where_they_are(tmp_path):
    grades = _grade_mistakes(tmp_path, W2, {
        4: 'schema = tfdv.infer_schema(statistics=stats["eval"])\n',
        9: ("transformed_train, transform_fn = (\n"
            f"{EIGHT}    (raw['train'], sources['train'].TensorAdapterConfig())\n"
            f"{EIGHT}    | 'AnalyzeAndTransform' >> tft_beam.AnalyzeAndTransformDataset(module.preprocessing_fn,\n"
            f"{EIGHT}                                                              output_record_batches=True))\n"
            f"{EIGHT}transformed_eval, _ = (\n"
            f"{EIGHT}    (raw['eval'], sources['eval'].TensorAdapterConfig())\n"
            f"{EIGHT}    | 'AnalyzeEval' >> tft_beam.AnalyzeAndTransformDataset(module.preprocessing_fn,\n"
            f"{EIGHT}                                                      output_record_batches=True))\n"),
    })
    assert [g["points"] for g in grades] == [1, 1, 1, 0, 0, 1, 1, 1, 0], grades
    four, five, nine = grades[3], grades[4], grades[8]
    assert "differs from the one inferred from the training statistics" in four["verdict"], four
    assert "Exercise 4" in five["hint"], five
    assert "of the evaluation split was not computed with the training split's statistics" in nine["verdict"], nine


def test_c2_w3_a_lazy_selection_fails_exercise_1_and_the_checks_built_on_it_name_it(tmp_path):
    grades = _grade_mistakes(tmp_path, W3, {
        1: "selected_features = list(numeric_columns[:select_k])  # the first k, not the best k\n",
        3: ('schema.default_environment.append("TRAINING")\nschema.default_environment.append("SERVING")\n'
            'serving_anomalies = tfdv.validate_statistics(serving_stats, schema, environment="SERVING")\n'),
    })
    assert [g["points"] for g in grades] == [0, 0, 0, 0, 1, 1], grades
    assert "expected the 8 numeric columns with the highest ANOVA F score" in grades[0]["verdict"], grades[0]
    assert "Exercise 1" in grades[1]["hint"] and "Exercise 1" in grades[3]["hint"], grades
    assert "'Cover_Type' is still expected in the SERVING environment" in grades[2]["verdict"], grades[2]


def test_c2_w3_z_scores_everywhere_and_the_output_events_each_fail_where_they_are(tmp_path):
    grades = _grade_mistakes(tmp_path, W3, {
        4: ("for key in SCALE_MINMAX_FEATURE_KEYS + SCALE_01_FEATURE_KEYS + SCALE_Z_FEATURE_KEYS:\n"
            "        outputs[transformed_name(key)] = tft.scale_to_z_score(inputs[key])\n"
            "    for key in VOCAB_FEATURE_KEYS:\n"
            "        outputs[transformed_name(key)] = tft.compute_and_apply_vocabulary(\n"
            "            inputs[key], vocab_filename=key)\n"
            "    outputs[transformed_name(LABEL_KEY)] = inputs[LABEL_KEY]\n"),
        5: ("[producer] = [e.execution_id for e in store.get_events_by_artifact_ids([artifact_id])\n"
            "                  if e.type == metadata_store_pb2.Event.OUTPUT]\n"
            "    ids = [e.artifact_id for e in store.get_events_by_execution_ids([producer])\n"
            "           if e.type == metadata_store_pb2.Event.OUTPUT]\n"
            "    return store.get_artifacts_by_id(ids)\n"),
    })
    assert [g["points"] for g in grades] == [1, 1, 1, 0, 0, 0], grades
    assert "z-scored, not scaled to 0-1" in grades[3]["verdict"], grades[3]
    assert "expected [2, 5]" in grades[4]["verdict"] and "INPUT events" in grades[4]["hint"], grades[4]
    assert "(`transform_schema` is not defined)" in grades[5]["verdict"], grades[5]
