"""Running and reading what the KFP SDK writes: the local runner's log kept out of the notebook
(``quiet_kfp``, ``RunnerLog``), a compiled pipeline spec as a short outline or a drawn DAG, one task's part
of that log without its volatile bits, and the metadata of a ``ClassificationMetrics`` artifact as tables.

Nothing heavy is imported at module level (pandas, PyYAML and matplotlib are imported inside the functions).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpers.arguments import whole

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["PipelineRunError", "RunnerLog", "quiet_kfp", "load_spec", "spec_outline", "dag_edges", "plot_dag",
           "task_log", "confusion_matrix_frame", "roc_frame"]


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TASK_STATUS = re.compile(r"Task '([^']+)' finished with status (\w+)")
_PIPELINE_STATUS = re.compile(r"Pipeline '([^']+)' finished with status (\w+)")


# --------------------------------------------------------------------------------------------------
# The KFP local runner's log


class PipelineRunError(RuntimeError):
    """A pipeline run on the KFP local runner failed; the message ends with the tail of the runner's log."""


class RunnerLog:
    """What the KFP local runner printed during a ``quiet_kfp`` block, colour codes removed."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()

    @property
    def text(self) -> str:
        """The whole log (it holds absolute paths and timestamps: print it only to debug)."""
        return _ANSI.sub("", self._buffer.getvalue())

    def task_statuses(self) -> dict[str, str]:
        """Each task that finished, in the order it finished, and its status (``SUCCESS``, ``FAILURE``)."""
        return dict(_TASK_STATUS.findall(self.text))

    def pipeline_status(self) -> str | None:
        """The pipeline's final status, or ``None`` when the block ran no pipeline (a single component)."""
        found = _PIPELINE_STATUS.findall(self.text)
        return found[-1][1] if found else None

    def tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the log (where a failing task's traceback is)."""
        whole("lines", lines)
        return "\n".join(self.text.rstrip().splitlines()[-lines:])


@contextlib.contextmanager
def quiet_kfp(tail: int = 40) -> Iterator[RunnerLog]:
    """Run KFP local pipelines or components without their log in the notebook; keep it for inspection.

    The local runner prints every task's executor input, absolute artifact paths and timestamps: useful
    to debug, volatile in a stored notebook. Inside this block all of it (the runner's logger and the
    tasks' own output, both written to ``sys.stdout``) goes to the yielded ``RunnerLog`` instead. When the
    block raises, a ``PipelineRunError`` is raised from it whose message ends with the log's last ``tail``
    lines, so a failing task's traceback is still shown.

    Example::

        with kfp_local.quiet_kfp() as log:
            run = my_pipeline(n=10)
        print(log.task_statuses())

    Introduced in course3_modeling/C3_W1_Lab_2_Tuner_and_Trainer.ipynb.
    """
    whole("tail", tail)
    log = RunnerLog()
    try:
        with contextlib.redirect_stdout(log._buffer), contextlib.redirect_stderr(log._buffer):
            yield log
    except Exception as exc:
        raise PipelineRunError(
            f"{_ANSI.sub('', str(exc))}\n--- the last {tail} lines of the local runner's log ---\n{log.tail(tail)}"
        ) from exc


# --------------------------------------------------------------------------------------------------
# A compiled pipeline spec


def load_spec(spec: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """The pipeline spec as a dict, from the YAML file ``compiler.Compiler().compile`` wrote (or a dict).

    Raises:
        TypeError: ``spec`` is neither a path nor a mapping.
        FileNotFoundError: no file at that path.
        ValueError: the file is not a KFP pipeline spec (no ``root`` DAG or no ``components``).

    Introduced in course4_deployment/C4_W3_Lab_1_Kubeflow_Pipelines.ipynb.
    """
    import yaml

    if isinstance(spec, Mapping):
        loaded: Any = dict(spec)
        where = "the mapping"
    elif isinstance(spec, (str, Path)):
        path = Path(spec)
        if not path.is_file():
            raise FileNotFoundError(f"no pipeline spec at {path}; compile one first with "
                                    "kfp.compiler.Compiler().compile(pipeline_func, package_path=...)")
        loaded = yaml.safe_load(path.read_text())
        where = path.name
    else:
        raise TypeError(f"spec must be a YAML file path or a dict, got {type(spec).__name__}")
    if not isinstance(loaded, dict) or "dag" not in loaded.get("root", {}) or "components" not in loaded:
        raise ValueError(f"{where} is not a compiled KFP pipeline (it needs 'components' and 'root.dag'); "
                         "compile a @dsl.pipeline (or @dsl.component) function with kfp.compiler.Compiler")
    return loaded


def _io(definitions: Mapping[str, Any]) -> list[str]:
    """``name: type`` for each parameter and artifact of an input or output definition, sorted."""
    items = [f"{name}: {p.get('parameterType', '?')}" for name, p in definitions.get("parameters", {}).items()]
    items += [f"{name}: {a['artifactType']['schemaTitle']}" for name, a in definitions.get("artifacts", {}).items()]
    return sorted(items)


def _source(spec: Mapping[str, Any]) -> str:
    """Where a DAG task's input comes from: a run parameter, another task's output, or a constant."""
    if "componentInputParameter" in spec:
        return f"pipeline parameter {spec['componentInputParameter']}"
    if "componentInputArtifact" in spec:
        return f"pipeline input {spec['componentInputArtifact']}"
    if "taskOutputArtifact" in spec:
        out = spec["taskOutputArtifact"]
        return f"{out['producerTask']}.{out['outputArtifactKey']}"
    if "taskOutputParameter" in spec:
        out = spec["taskOutputParameter"]
        return f"{out['producerTask']}.{out['outputParameterKey']}"
    if "runtimeValue" in spec:
        return f"constant {spec['runtimeValue'].get('constant')!r}"
    return "?"


def spec_outline(spec: str | Path | Mapping[str, Any]) -> str:
    """A readable outline of a compiled pipeline: its parameters, each component's typed inputs and
    outputs, and the DAG (each task, the component it runs, the tasks it waits for, where its inputs
    come from). Components and tasks are listed in the order the spec holds them (sorted by name).

    Introduced in course4_deployment/C4_W3_Lab_1_Kubeflow_Pipelines.ipynb.
    """
    loaded = load_spec(spec)
    info = loaded.get("pipelineInfo", {})
    lines = [f"pipeline: {info.get('name', '?')}"]
    params = loaded["root"].get("inputDefinitions", {}).get("parameters", {})
    for name, p in sorted(params.items()):
        value = p.get("defaultValue")
        if p.get("parameterType") == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
            value = int(value)  # the YAML stores every number as a float
        default = f" = {value!r}" if "defaultValue" in p else ""
        lines.append(f"  parameter {name}: {p.get('parameterType', '?')}{default}")
    lines.append("components:")
    for name, comp in sorted(loaded["components"].items()):
        lines.append(f"  {name}")
        lines.append(f"    in:  {', '.join(_io(comp.get('inputDefinitions', {}))) or '-'}")
        lines.append(f"    out: {', '.join(_io(comp.get('outputDefinitions', {}))) or '-'}")
    lines.append("dag:")
    for name, task in sorted(loaded["root"]["dag"]["tasks"].items()):
        after = ", ".join(task.get("dependentTasks", [])) or "-"
        lines.append(f"  {name} (runs {task['componentRef']['name']}, after: {after})")
        inputs = task.get("inputs", {})
        for kind in ("artifacts", "parameters"):
            for arg, source in sorted(inputs.get(kind, {}).items()):
                lines.append(f"    {arg} <- {_source(source)}")
    return "\n".join(lines)


def dag_edges(spec: str | Path | Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The DAG's edges as ``(producer task, consumer task, what flows)``, sorted: one edge per pair of
    tasks, ``what flows`` naming the producer's outputs the consumer reads (comma-separated), or ``"after"``
    for an ordering set with ``.after()`` alone.

    Introduced in course4_deployment/C4_W3_Lab_1_Kubeflow_Pipelines.ipynb.
    """
    tasks = load_spec(spec)["root"]["dag"]["tasks"]
    edges: dict[tuple[str, str], set[str]] = {}
    for name, task in tasks.items():
        for producer in task.get("dependentTasks", []):
            edges.setdefault((producer, name), set())
        inputs = task.get("inputs", {})
        for kind, key in (("artifacts", "outputArtifactKey"), ("parameters", "outputParameterKey")):
            for source in inputs.get(kind, {}).values():
                out = source.get("taskOutputArtifact") or source.get("taskOutputParameter")
                if out:
                    edges.setdefault((out["producerTask"], name), set()).add(out[key])
    return [(a, b, ", ".join(sorted(flows)) or "after") for (a, b), flows in sorted(edges.items())]


_STATE_COLOURS = {"SUCCESS": "#b7e1b0", "FAILURE": "#f4b6b0"}


def plot_dag(spec: str | Path | Mapping[str, Any], states: Mapping[str, str] | None = None,
             ax: Axes | None = None) -> Axes:
    """Draw a compiled pipeline's DAG top to bottom, as a KFP UI shows a run's graph: one box per task,
    coloured by its final state (green ``SUCCESS``, red ``FAILURE``, grey not run or unknown), and one
    arrow per edge of ``dag_edges`` labelled with the outputs that flow along it. A task's row is the
    length of the longest path that leads to it.

    Args:
        spec: the compiled YAML (path) or its dict.
        states: each task's final state, e.g. ``RunnerLog.task_statuses()``; ``None`` draws the bare DAG.
        ax: where to draw; a new figure when ``None``.

    Introduced in course4_deployment/C4_W3_Lab_1_Kubeflow_Pipelines.ipynb.
    """
    import matplotlib.pyplot as plt

    loaded = load_spec(spec)
    if states is not None and not isinstance(states, Mapping):
        raise TypeError(f"states must map task names to states, got {type(states).__name__}")
    tasks = sorted(loaded["root"]["dag"]["tasks"])
    edges = dag_edges(loaded)
    depth = dict.fromkeys(tasks, 0)
    for _ in tasks:  # longest path: relax every edge as often as there are tasks
        for a, b, _flow in edges:
            depth[b] = max(depth[b], depth[a] + 1)
    rows: dict[int, list[str]] = {}
    for name in tasks:
        rows.setdefault(depth[name], []).append(name)
    pos = {name: (i - (len(row) - 1) / 2, -level) for level, row in rows.items() for i, name in enumerate(row)}
    if ax is None:
        _, ax = plt.subplots(figsize=(2.6 * max(len(r) for r in rows.values()) + 2.4, 1.1 * len(rows) + 0.6))
    for a, b, flow in edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        if ya - yb > 1 and xa == xb:  # jumps over rows in the same column: leave and enter on the right
            ax.annotate("", xy=(xb + 0.4, yb), xytext=(xa + 0.4, ya), arrowprops={
                "arrowstyle": "-|>", "color": "#555555",
                "connectionstyle": "arc,angleA=0,angleB=0,armA=45,armB=45,rad=8"})
            ax.text(xa + 0.82, (ya + yb) / 2, flow, fontsize=8, color="#333333", va="center", style="italic")
            continue
        ax.annotate("", xy=(xb, yb + 0.22), xytext=(xa, ya - 0.22),
                    arrowprops={"arrowstyle": "-|>", "color": "#555555"})
        ax.text((xa + xb) / 2 + 0.05, (ya + yb) / 2, flow, fontsize=8, color="#333333", va="center", style="italic")
    for name, (x, y) in pos.items():
        state = (states or {}).get(name)
        label = f"{name}\n{state}" if states is not None else name
        ax.text(x, y, label, ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round,pad=0.4", "fc": _STATE_COLOURS.get(str(state), "#e0e0e0"), "ec": "#444444"})
    xs = [x for x, _ in pos.values()]
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.4)
    ax.set_ylim(-len(rows) + 0.5, 0.5)
    ax.set_axis_off()
    ax.set_title(f"pipeline {loaded.get('pipelineInfo', {}).get('name', '?')}: "
                 f"{len(tasks)} tasks, {len(edges)} edges")
    return ax


_CLOCK = re.compile(r"^\d\d:\d\d:\d\d\.\d+ - ", re.MULTILINE)
_EXECUTOR_TIME = re.compile(r"\[KFP Executor \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ")
_RUN_FOLDER = re.compile(r"-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-\d+/")
_TEMP_DIR = re.compile(r"/\S*?/tmp[\w.]+")


def _sorted_outputs(lines: list[str]) -> list[str]:
    """The entries of a task's ``outputs:`` block (each a ``    name: ...`` line and its deeper-indented
    continuation lines) sorted by name; the lines before the block stay as they are."""
    start = next((i + 1 for i, line in enumerate(lines) if re.search(r"Task '[^']+' outputs:$", line)), None)
    if start is None:
        return lines
    entries: list[list[str]] = []
    for line in lines[start:]:
        if re.match(r"^ {4}\S", line) or not entries:
            entries.append([line])
        else:
            entries[-1].append(line)
    return lines[:start] + [line for entry in sorted(entries) for line in entry]


def task_log(text: str, task: str, pipeline_root: str | Path, lines: int | None = None) -> str:
    """One task's part of the KFP local runner's log (``RunnerLog.text``), made stable to store: the clock
    times dropped, ``pipeline_root`` written as ``<pipeline_root>``, the run folder's start time as
    ``<run>``, the runner's temporary folders as ``<tmp>``, and the task's outputs sorted by name (their
    order varies between KFP versions). ``lines`` keeps only the last lines (the
    step's own output, its outputs and its status, like the tail of the KFP UI's *Logs* tab).

    Raises:
        ValueError: the log has no task of that name (the message lists the tasks it has), or ``lines``
            is not a positive int.

    Introduced in course4_deployment/C4_W3_Lab_1_Kubeflow_Pipelines.ipynb.
    """
    if lines is not None:
        whole("lines", lines, advice="or None for the whole part")
    sections = re.split(r"^-{20,}$", text, flags=re.MULTILINE)
    found = [s for s in sections if re.search(rf"Executing task '{re.escape(task)}'", s)]
    if not found:
        names = re.findall(r"Executing task '([^']+)'", text)
        raise ValueError(f"no task {task!r} in this log; it ran {names}")
    part = _CLOCK.sub("", found[-1].strip("\n"))
    part = _EXECUTOR_TIME.sub("[KFP Executor ", part)
    for root in (str(Path(pipeline_root).resolve()), str(pipeline_root)):
        part = part.replace(root, "<pipeline_root>")
    part = _RUN_FOLDER.sub("-<run>/", part)
    part = _TEMP_DIR.sub("<tmp>", part)
    kept = _sorted_outputs([line.rstrip() for line in part.splitlines()])
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept[-lines:] if lines else kept)


def _metadata(artifact_or_metadata: Any) -> Mapping[str, Any]:
    metadata = getattr(artifact_or_metadata, "metadata", artifact_or_metadata)
    if not isinstance(metadata, Mapping):
        raise TypeError("pass a ClassificationMetrics artifact or its metadata dict, "
                        f"got {type(artifact_or_metadata).__name__}")
    return metadata


def _logged(artifact_or_metadata: Any, key: str, what: str, call: str) -> Any:
    value = _metadata(artifact_or_metadata).get(key)
    if not value:
        raise ValueError(f"no {what} in this artifact's metadata; the component must call metrics.{call}")
    return value


def confusion_matrix_frame(artifact_or_metadata: Any) -> pd.DataFrame:
    """The confusion matrix a component logged with ``ClassificationMetrics.log_confusion_matrix``, as a
    table: rows are the true classes, columns the predicted ones, cells are counts.

    Raises:
        TypeError: not an artifact or a dict.
        ValueError: no confusion matrix was logged.

    Introduced in course4_deployment/C4_W3_Lab_1_Kubeflow_Pipelines.ipynb.
    """
    import pandas as pd

    matrix = _logged(artifact_or_metadata, "confusionMatrix", "confusion matrix",
                     "log_confusion_matrix(categories, matrix)")
    labels = [spec["displayName"] for spec in matrix["annotationSpecs"]]
    rows = [[int(v) for v in row["row"]] for row in matrix["rows"]]
    frame = pd.DataFrame(rows, index=labels, columns=labels)
    frame.index.name, frame.columns.name = "true", "predicted"
    return frame


def roc_frame(artifact_or_metadata: Any) -> pd.DataFrame:
    """The ROC points a component logged with ``ClassificationMetrics.log_roc_curve``, one row per
    threshold: ``threshold``, ``false_positive_rate``, ``true_positive_rate``.

    Raises:
        TypeError: not an artifact or a dict.
        ValueError: no ROC curve was logged.

    Introduced in course4_deployment/C4_W3_Lab_1_Kubeflow_Pipelines.ipynb.
    """
    import pandas as pd

    points = _logged(artifact_or_metadata, "confidenceMetrics", "ROC curve", "log_roc_curve(fpr, tpr, thresholds)")
    return pd.DataFrame({
        "threshold": [p["confidenceThreshold"] for p in points],
        "false_positive_rate": [p["falsePositiveRate"] for p in points],
        "true_positive_rate": [p["recall"] for p in points],
    })
