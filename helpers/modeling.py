"""Plumbing for the modeling labs: a SavedModel's signatures as ``saved_model_cli show`` prints them, and a
Keras model's wiring drawn without graphviz (keeping the KFP local runner's log out of a notebook is
``helpers.kfp_local.quiet_kfp``).

Nothing heavy is imported at module level: TensorFlow's protos and matplotlib are imported inside the
functions that need them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["describe_saved_model", "model_edges", "plot_wiring", "summary_text"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --------------------------------------------------------------------------------------------------
# A SavedModel's signatures


def describe_saved_model(path: str | Path, signature: str | None = None, tag_set: str = "serve") -> str:
    """The signatures of the SavedModel in ``path``, formatted like ``saved_model_cli show --all``.

    Reads ``saved_model.pb`` as a protocol buffer (no model is loaded, no graph is built) and lists, per
    signature, each input and output: its key, dtype, shape (``-1`` for any size) and tensor name.

    Args:
        path: the SavedModel folder (the one holding ``saved_model.pb`` and ``variables/``).
        signature: show only this signature (``"serving_default"``, as ``--signature_def`` does);
            ``None`` shows them all.
        tag_set: the MetaGraph's tags, comma-separated (``"serve"`` for a serving export).

    Raises:
        FileNotFoundError: no folder, or no ``saved_model.pb`` in it.
        ValueError: no MetaGraph with that tag set, or no such signature (the message lists the ones
            there are).

    Introduced in course3_modeling/C3_W1_Lab_2_Tuner_and_Trainer.ipynb.
    """
    from tensorflow.core.framework import types_pb2
    from tensorflow.core.protobuf import saved_model_pb2

    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a folder path (str or Path), got {type(path).__name__}")
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"no SavedModel folder at {folder}; pass the folder that model.export() wrote")
    pb = folder / "saved_model.pb"
    if not pb.is_file():
        raise FileNotFoundError(f"{folder} holds no saved_model.pb, so it is not a SavedModel; "
                                "export one with model.export(folder) or tf.saved_model.save(obj, folder)")
    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString(pb.read_bytes())
    wanted = {t.strip() for t in tag_set.split(",") if t.strip()}
    tag_sets = [set(g.meta_info_def.tags) for g in saved.meta_graphs]
    graph = next((g for g in saved.meta_graphs if set(g.meta_info_def.tags) == wanted), None)
    if graph is None:
        raise ValueError(f"the SavedModel has no MetaGraph tagged {sorted(wanted)}; "
                         f"its tag sets are {[sorted(t) for t in tag_sets]}")

    def tensor(kind: str, key: str, info: Any) -> list[str]:
        dims = [str(d.size) for d in info.tensor_shape.dim]
        shape = f"({', '.join(dims)}{',' if len(dims) == 1 else ''})"
        if info.tensor_shape.unknown_rank:
            shape = "unknown_rank"
        return [f"    {kind}['{key}'] tensor_info:",
                f"        dtype: {types_pb2.DataType.Name(info.dtype)}",
                f"        shape: {shape}",
                f"        name: {info.name}"]

    names = sorted(graph.signature_def)
    if signature is not None:
        if signature not in graph.signature_def:
            raise ValueError(f"the SavedModel has no signature {signature!r}; it has {names}")
        names = [signature]
    lines = [f"MetaGraphDef with tag-set: '{', '.join(sorted(wanted))}' contains the following SignatureDefs:"]
    for name in names:
        signature = graph.signature_def[name]
        lines += ["", f"signature_def['{name}']:",
                  "  The given SavedModel SignatureDef contains the following input(s):"]
        for key in sorted(signature.inputs):
            lines += tensor("inputs", key, signature.inputs[key])
        lines.append("  The given SavedModel SignatureDef contains the following output(s):")
        for key in sorted(signature.outputs):
            lines += tensor("outputs", key, signature.outputs[key])
        lines.append(f"  Method name is: {signature.method_name}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# A Keras model's wiring


def summary_text(model: Any) -> str:
    """``model.summary()`` as plain text: the same table, without colour codes or an empty HTML block.

    Keras 3 draws its summary with ``rich``, which in a notebook writes ANSI colour codes into the stored
    output (unreadable on GitHub) or, given a ``print_fn``, an empty HTML block next to the text. Here
    rich renders to a plain string, with its notebook detection turned off for that one call.

    Raises:
        TypeError: ``model`` has no ``summary`` method.

    Introduced in course3_modeling/C3_W1_Lab_1_Keras_Tuner.ipynb.
    """
    from unittest import mock

    import rich.console

    if not callable(getattr(model, "summary", None)) or not hasattr(model, "layers"):
        raise TypeError(f"summary_text needs a Keras model, got {type(model).__name__}")
    parts: list[str] = []
    with mock.patch.object(rich.console, "_is_jupyter", lambda: False):
        model.summary(print_fn=lambda text, **_: parts.append(text))
    return _ANSI.sub("", "\n".join(part.rstrip("\n") for part in parts))


def model_edges(model: Any) -> list[tuple[str, str]]:
    """The connections of a Keras functional model as ``(from layer, to layer)`` name pairs, in layer order.

    Raises:
        TypeError: ``model`` is not a built Keras model with layers.

    Introduced in course3_modeling/C3_W2_Lab_1_Manual_Dimensionality.ipynb.
    """
    layers = getattr(model, "layers", None)
    if not isinstance(layers, list) or not layers:
        raise TypeError(f"model_edges needs a built Keras functional model, got {type(model).__name__}")
    names = {layer.name for layer in layers}
    edges = []
    for layer in layers:
        for node in getattr(layer, "_inbound_nodes", []):
            for parent in node.parent_nodes:
                source = parent.operation.name
                if source in names and (source, layer.name) not in edges:
                    edges.append((source, layer.name))
    return edges


def _shape(layer: Any) -> str:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return ""
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def plot_wiring(model: Any, title: str = "", width: float = 11.0, ax: "Axes | None" = None) -> "Figure":
    """Draw a Keras functional model's layers (name, type, output shape) and connections, top to bottom.

    What ``keras.utils.plot_model`` shows, drawn with matplotlib, so it needs neither pydot nor graphviz.
    Each layer sits one row below its deepest input. Pass ``ax`` to draw into an existing panel (e.g. two
    models side by side); otherwise a new figure ``width`` inches wide is made.

    Introduced in course3_modeling/C3_W2_Lab_1_Manual_Dimensionality.ipynb.
    """
    import matplotlib.pyplot as plt

    edges = model_edges(model)
    layers = model.layers
    parents: dict[str, list[str]] = {layer.name: [] for layer in layers}
    for source, target in edges:
        parents[target].append(source)
    depth: dict[str, int] = {}
    for layer in layers:  # Keras lists a functional model's layers in topological order
        depth[layer.name] = 1 + max((depth[p] for p in parents[layer.name]), default=-1)
    rows: dict[int, list[str]] = {}
    for layer in layers:
        rows.setdefault(depth[layer.name], []).append(layer.name)
    n_rows = max(rows) + 1
    widest = max(len(r) for r in rows.values())
    own_figure = ax is None
    if own_figure:
        fig, ax = plt.subplots(figsize=(width, 1.05 * n_rows + 0.6))
    else:
        fig = ax.figure
    where: dict[str, tuple[float, float]] = {}
    for row, members in rows.items():
        for i, name in enumerate(members):
            where[name] = ((i + 0.5) * widest / len(members), n_rows - 1 - row)
    by_name = {layer.name: layer for layer in layers}
    box_w = min(0.9, 0.92 * widest / max(len(r) for r in rows.values()))
    for source, target in edges:
        (x0, y0), (x1, y1) = where[source], where[target]
        ax.annotate("", xy=(x1, y1 + 0.27), xytext=(x0, y0 - 0.27),
                    arrowprops={"arrowstyle": "-|>", "color": "0.45", "lw": 1.0})
    for name, (x, y) in where.items():
        layer = by_name[name]
        kind = type(layer).__name__
        colour = "#dbe9f6" if kind == "InputLayer" else "#fde7c8" if kind not in ("Dense", "Concatenate") else "#e2f0d9"
        ax.text(x, y, f"{name}\n{kind} {_shape(layer)}", ha="center", va="center", fontsize=7.5,
                bbox={"boxstyle": "round,pad=0.35", "facecolor": colour, "edgecolor": "0.5"})
    ax.set_xlim(-0.1 * box_w, widest + 0.1 * box_w)
    ax.set_ylim(-0.6, n_rows - 0.4)
    ax.axis("off")
    ax.set_title(title or f"Wiring of the model '{model.name}' ({len(layers)} layers)")
    if own_figure:
        fig.tight_layout()
    return fig
