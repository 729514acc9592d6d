"""Reading what the KFP SDK writes: a compiled pipeline spec as a short outline, and the metadata of a
``ClassificationMetrics`` artifact as tables.

Keeping the local runner's log out of a notebook is ``helpers.modeling.quiet_kfp``; this module only
reads. Nothing heavy is imported at module level (pandas and PyYAML are imported inside the functions).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["load_spec", "spec_outline", "confusion_matrix_frame", "roc_frame"]


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
