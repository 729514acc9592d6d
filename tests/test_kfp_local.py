"""Tests of helpers.kfp_local (the local runner's log, reading a compiled KFP spec and a ClassificationMetrics
artifact), and of the errors KFP itself raises for a badly wired pipeline: a missing input, a wrong artifact type."""

import sys
from typing import NamedTuple

import pytest

kfp = pytest.importorskip("kfp")
from kfp import compiler, dsl, local  # noqa: E402
from kfp.dsl import ClassificationMetrics, Dataset, Input, Model, Output  # noqa: E402
from kfp.dsl.types.type_utils import InconsistentTypeException  # noqa: E402

from helpers import kfp_local  # noqa: E402

# The KFP local runner's log, as it prints it: ANSI colours, timestamps, absolute paths.
RUNNER_LOG = """\
05:00:01.000 - INFO - Running pipeline: \x1b[95m'tune-and-train'\x1b[0m
05:00:01.001 - INFO - Executing task \x1b[96m'example-gen'\x1b[0m
    [KFP Executor 2026-01-01 05:00:02,000 INFO]: Wrote executor output file to /somewhere/example-gen/out.json.
05:00:02.100 - INFO - Task \x1b[96m'example-gen'\x1b[0m finished with status \x1b[92mSUCCESS\x1b[0m
05:00:03.100 - ERROR - Task \x1b[96m'tuner'\x1b[0m finished with status \x1b[91mFAILURE\x1b[0m
05:00:03.200 - INFO - Pipeline \x1b[95m'tune-and-train'\x1b[0m finished with status \x1b[91mFAILURE\x1b[0m
"""


def test_quiet_kfp_captures_stdout_and_stderr_and_parses_statuses(capsys):
    with kfp_local.quiet_kfp() as log:
        print(RUNNER_LOG, end="")
        print("a warning", file=sys.stderr)
    assert capsys.readouterr() == ("", "")
    assert "\x1b[" not in log.text and "a warning" in log.text
    assert log.task_statuses() == {"example-gen": "SUCCESS", "tuner": "FAILURE"}
    assert list(log.task_statuses()) == ["example-gen", "tuner"]  # in the order they finished
    assert log.pipeline_status() == "FAILURE"
    assert log.tail(1) == "a warning"


def test_quiet_kfp_with_no_pipeline_has_no_status():
    with kfp_local.quiet_kfp() as log:
        print("nothing ran")
    assert log.task_statuses() == {} and log.pipeline_status() is None


def test_quiet_kfp_shows_the_log_tail_when_the_block_fails():
    with pytest.raises(kfp_local.PipelineRunError) as info:
        with kfp_local.quiet_kfp(tail=2) as log:
            print("line 1\nline 2\nTraceback: the step's own error")
            raise RuntimeError("Pipeline \x1b[95m'p'\x1b[0m finished with status FAILURE")
    message = str(info.value)
    assert message.startswith("Pipeline 'p' finished with status FAILURE")  # colours removed
    assert "the last 2 lines" in message and "Traceback: the step's own error" in message
    assert "line 1" not in message
    assert isinstance(info.value.__cause__, RuntimeError) and "line 1" in log.text


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "40"])
def test_quiet_kfp_and_tail_refuse_a_bad_line_count(bad):
    with pytest.raises(ValueError, match="tail must be an int of at least 1, got"):
        with kfp_local.quiet_kfp(tail=bad):
            pass
    with pytest.raises(ValueError, match="lines must be an int of at least 1, got"):
        kfp_local.RunnerLog().tail(bad)


def test_quiet_kfp_around_a_real_local_run(tmp_path):
    from kfp import dsl, local

    @dsl.component(base_image="python:3.11", install_kfp_package=False)
    def add(a: int, b: int) -> int:
        print("adding")
        return a + b

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path))
    with kfp_local.quiet_kfp() as log:
        task = add(a=2, b=3)
    assert task.output == 5
    assert log.task_statuses() == {"add": "SUCCESS"} and "adding" in log.text

IMAGE = "python:3.11"


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def make_rows(n: int, rows: Output[Dataset]):
    with open(rows.path, "w") as f:
        f.write("\n".join(str(i) for i in range(n)))


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def count_rows(rows: Input[Dataset], label: str) -> str:
    with open(rows.path) as f:
        return f"{label}: {len(f.read().splitlines())}"


@dsl.component(base_image=IMAGE, install_kfp_package=False)
def fit(rows: Input[Dataset], model: Output[Model]):
    with open(model.path, "w") as f:
        f.write("model")


@dsl.pipeline(name="two-steps")
def two_steps(n: int = 3, label: str = "rows") -> str:
    made = make_rows(n=n)
    return count_rows(rows=made.outputs["rows"], label=label).outputs["Output"]


@pytest.fixture
def spec_path(tmp_path):
    path = tmp_path / "pipeline.yaml"
    compiler.Compiler().compile(two_steps, package_path=str(path))
    return path


# --------------------------------------------------------------------------------------------------
# spec_outline / load_spec


def test_spec_outline_lists_parameters_components_and_the_dag(spec_path):
    outline = kfp_local.spec_outline(spec_path)
    assert outline.splitlines()[0] == "pipeline: two-steps"
    assert "  parameter n: NUMBER_INTEGER = 3" in outline  # an int default, not 3.0
    assert "  parameter label: STRING = 'rows'" in outline
    assert "    in:  label: STRING, rows: system.Dataset" in outline
    assert "    out: rows: system.Dataset" in outline
    assert "  count-rows (runs comp-count-rows, after: make-rows)" in outline
    assert "    rows <- make-rows.rows" in outline
    assert "    n <- pipeline parameter n" in outline
    assert "  make-rows (runs comp-make-rows, after: -)" in outline


def test_spec_outline_accepts_a_loaded_dict_and_shows_constants(spec_path, tmp_path):
    @dsl.pipeline(name="with-constant")
    def with_constant():
        count_rows(rows=make_rows(n=2).outputs["rows"], label="fixed")

    path = tmp_path / "constant.yaml"
    compiler.Compiler().compile(with_constant, package_path=str(path))
    outline = kfp_local.spec_outline(kfp_local.load_spec(path))
    assert "    label <- constant 'fixed'" in outline
    assert "    n <- constant 2" in outline


def test_load_spec_refuses_bad_input(tmp_path):
    with pytest.raises(TypeError, match="YAML file path or a dict"):
        kfp_local.load_spec(42)
    with pytest.raises(FileNotFoundError, match="compile one first"):
        kfp_local.load_spec(tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match="not a compiled KFP pipeline"):
        kfp_local.load_spec({"components": {}})
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ValueError, match="list.yaml is not a compiled KFP pipeline"):
        kfp_local.load_spec(tmp_path / "list.yaml")


def test_load_spec_reads_a_compiled_component_and_refuses_an_empty_file(tmp_path):
    path = tmp_path / "component.yaml"
    compiler.Compiler().compile(make_rows, package_path=str(path))
    # a compiled component has a root DAG of one task: outline it, it is still a valid spec
    assert "make-rows" in kfp_local.spec_outline(path)
    (tmp_path / "empty.yaml").write_text("")
    with pytest.raises(ValueError, match="not a compiled KFP pipeline"):
        kfp_local.load_spec(tmp_path / "empty.yaml")


# --------------------------------------------------------------------------------------------------
# confusion_matrix_frame / roc_frame


def _classification_metrics() -> ClassificationMetrics:
    metrics = ClassificationMetrics(name="classification")
    metrics.log_confusion_matrix(["cat", "dog"], [[5, 1], [2, 7]])
    metrics.log_roc_curve([0.0, 0.2, 1.0], [0.0, 0.8, 1.0], [1.0, 0.5, 0.0])
    return metrics


def test_confusion_matrix_frame_from_an_artifact_and_from_its_metadata():
    metrics = _classification_metrics()
    for source in (metrics, dict(metrics.metadata)):
        frame = kfp_local.confusion_matrix_frame(source)
        assert list(frame.index) == ["cat", "dog"] and list(frame.columns) == ["cat", "dog"]
        assert frame.loc["dog", "cat"] == 2 and frame.to_numpy().sum() == 15
        assert frame.index.name == "true" and frame.columns.name == "predicted"


def test_roc_frame_has_one_row_per_threshold():
    roc = kfp_local.roc_frame(_classification_metrics())
    assert list(roc.columns) == ["threshold", "false_positive_rate", "true_positive_rate"]
    assert roc["true_positive_rate"].tolist() == [0.0, 0.8, 1.0]


@pytest.mark.parametrize("reader", [kfp_local.confusion_matrix_frame, kfp_local.roc_frame])
def test_metric_readers_refuse_bad_input(reader):
    with pytest.raises(TypeError, match="ClassificationMetrics artifact or its metadata"):
        reader([1, 2, 3])
    with pytest.raises(ValueError, match="must call metrics.log_"):
        reader({})
    with pytest.raises(ValueError, match="must call metrics.log_"):
        reader(ClassificationMetrics(name="empty"))


# --------------------------------------------------------------------------------------------------
# KFP's own errors for a badly wired pipeline (the "bad input" of a pipeline)


def test_a_component_called_without_a_required_input_fails_when_the_pipeline_is_defined():
    with pytest.raises(TypeError, match=r"count-rows\(\) missing 1 required argument: label"):
        @dsl.pipeline(name="missing-input")
        def missing_input():
            count_rows(rows=make_rows(n=2).outputs["rows"])


def test_a_component_called_without_its_artifact_input_fails_too():
    with pytest.raises(TypeError, match=r"count-rows\(\) missing 1 required argument: rows"):
        @dsl.pipeline(name="missing-artifact")
        def missing_artifact():
            count_rows(label="x")


def test_a_pipeline_run_without_a_required_parameter_fails_before_any_step_runs(tmp_path):
    @dsl.pipeline(name="needs-n")
    def needs_n(n: int) -> str:
        return count_rows(rows=make_rows(n=n).outputs["rows"], label="rows").outputs["Output"]

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))
    with pytest.raises(TypeError, match=r"needs-n\(\) missing 1 required argument: n"):
        needs_n()
    assert not (tmp_path / "root").exists() or not any((tmp_path / "root").iterdir())  # nothing ran


def test_connecting_an_incompatible_artifact_type_fails_when_the_pipeline_is_defined():
    with pytest.raises(InconsistentTypeException,
                       match=r"input 'rows' of component 'count-rows'.*system.Model.*system.Dataset"):
        @dsl.pipeline(name="wrong-type")
        def wrong_type():
            trained = fit(rows=make_rows(n=2).outputs["rows"])
            count_rows(rows=trained.outputs["model"], label="x")


def test_an_artifact_into_a_string_parameter_fails_too():
    with pytest.raises(InconsistentTypeException, match=r"system.Dataset.*incompatible with the input type 'STRING'"):
        @dsl.pipeline(name="artifact-into-string")
        def artifact_into_string():
            count_rows(rows=make_rows(n=2).outputs["rows"], label=make_rows(n=1).outputs["rows"])


def test_a_two_step_pipeline_runs_on_the_local_runner_and_returns_its_output(tmp_path):
    class Out(NamedTuple):
        summary: str

    @dsl.pipeline(name="runs")
    def runs(n: int = 4) -> Out:
        made = make_rows(n=n)
        return Out(summary=count_rows(rows=made.outputs["rows"], label="rows").outputs["Output"])

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "root"))
    with kfp_local.quiet_kfp() as log:
        task = runs(n=4)
    assert task.outputs["summary"] == "rows: 4"
    assert log.pipeline_status() == "SUCCESS"
    # one task's log, made storable: no tmp_path, no clock time, outputs listed
    tail = kfp_local.task_log(log.text, "count-rows", tmp_path / "root", lines=6)
    assert str(tmp_path) not in tail and "status SUCCESS" in tail and "Output: 'rows: 4'" in tail
    assert "<pipeline_root>/runs-<run>/" in kfp_local.task_log(log.text, "make-rows", tmp_path / "root")


# --------------------------------------------------------------------------------------------------
# dag_edges / plot_dag


@dsl.pipeline(name="with-a-skip")
def with_a_skip(n: int = 3) -> str:
    made = make_rows(n=n)
    fitted = fit(rows=made.outputs["rows"])
    last = count_rows(rows=made.outputs["rows"], label="rows").after(fitted)
    return last.outputs["Output"]


def test_dag_edges_name_what_flows_and_bare_orderings(spec_path):
    assert kfp_local.dag_edges(spec_path) == [("make-rows", "count-rows", "rows")]
    assert kfp_local.dag_edges(_compiled(with_a_skip)) == [
        ("fit", "count-rows", "after"), ("make-rows", "count-rows", "rows"), ("make-rows", "fit", "rows")]


def _compiled(pipeline) -> dict:
    import tempfile

    import yaml

    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/p.yaml"
        compiler.Compiler().compile(pipeline, package_path=path)
        with open(path) as f:
            return yaml.safe_load(f)


def test_plot_dag_draws_one_box_per_task_and_refuses_bad_states(spec_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = kfp_local.plot_dag(spec_path, {"make-rows": "SUCCESS", "count-rows": "FAILURE"})
    assert ax.get_title() == "pipeline two-steps: 2 tasks, 1 edges"
    boxes = {t.get_text(): t.get_bbox_patch().get_facecolor() for t in ax.texts if t.get_bbox_patch()}
    assert set(boxes) == {"make-rows\nSUCCESS", "count-rows\nFAILURE"}
    assert boxes["make-rows\nSUCCESS"] != boxes["count-rows\nFAILURE"]
    skip = kfp_local.plot_dag(_compiled(with_a_skip))  # no states: bare names, the skip edge drawn too
    assert {t.get_text() for t in skip.texts} >= {"make-rows", "fit", "count-rows", "after", "rows"}
    with pytest.raises(TypeError, match="states must map"):
        kfp_local.plot_dag(spec_path, ["SUCCESS"])
    plt.close("all")


# --------------------------------------------------------------------------------------------------
# task_log on a made-up log


LOG = """12:00:00.100 - INFO - Running pipeline: 'p'
--------------------------------------------------------------------------------
12:00:00.200 - INFO - Executing task 'a'
    [KFP Executor 2026-01-02 12:00:00,300 INFO]: Loading from /tmp/tmpAbC123/ephemeral_component.py
    hello
12:00:01.000 - INFO - Task 'a' finished with status SUCCESS
12:00:01.000 - INFO - Task 'a' outputs:
    zeta: 1
    alpha: Dataset( name='alpha',
                    uri='/data/root/p-2026-01-02-12-00-00-123456/a/alpha' )
--------------------------------------------------------------------------------
12:00:01.100 - INFO - Pipeline 'p' finished with status SUCCESS
"""


def test_task_log_removes_clock_times_paths_and_sorts_the_outputs():
    text = kfp_local.task_log(LOG, "a", "/data/root")
    assert text.splitlines() == [
        "INFO - Executing task 'a'",
        "    [KFP Executor INFO]: Loading from <tmp>/ephemeral_component.py",
        "    hello",
        "INFO - Task 'a' finished with status SUCCESS",
        "INFO - Task 'a' outputs:",
        "    alpha: Dataset( name='alpha',",
        "                    uri='<pipeline_root>/p-<run>/a/alpha' )",
        "    zeta: 1",
    ]
    assert kfp_local.task_log(LOG, "a", "/data/root", lines=1) == "    zeta: 1"


@pytest.mark.parametrize("task, lines, message", [("b", None, r"no task 'b'.*\['a'\]"),
                                                  ("a", 0, "lines must be an int of at least 1 .or None"),
                                                  ("a", True, "lines must be an int of at least 1 .or None")])
def test_task_log_refuses_an_unknown_task_and_bad_lines(task, lines, message):
    with pytest.raises(ValueError, match=message):
        kfp_local.task_log(LOG, task, "/data/root", lines=lines)
