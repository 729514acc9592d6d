"""ML Metadata plumbing: open a SQLite store, register types, record one finished step with its input and
output artifacts, and the lineage queries as DataFrames. ML Metadata and pandas are imported inside the
functions that need them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    import pandas as pd
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2

__all__ = [
    "PROPERTY_TYPES", "open_store", "register_types", "put_context", "new_artifact", "start_execution",
    "execution_dir", "record_execution", "latest_artifact", "artifacts_frame", "executions_frame",
    "execution_io_frame", "lineage_frame", "display_uri",
]

PROPERTY_TYPES = ("STRING", "INT", "DOUBLE")
PropertyValue = Union[str, int, float]


# --------------------------------------------------------------------------------------------- the store


def open_store(path: str | Path) -> "metadata_store.MetadataStore":
    """Open (creating it if needed) an ML Metadata store in the SQLite file ``path``.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    if not isinstance(path, (str, Path)) or not str(path):
        raise TypeError(f"open_store needs the path of a SQLite file, got {path!r}")
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the folder {path.parent} does not exist; create it before opening the store")
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return metadata_store.MetadataStore(config)


def _property_type(name: str, kind: str) -> int:
    from ml_metadata.proto import metadata_store_pb2

    if kind not in PROPERTY_TYPES:
        raise ValueError(f"property {name!r} has type {kind!r}; use one of {', '.join(PROPERTY_TYPES)}")
    return getattr(metadata_store_pb2, kind)


def register_types(
    store: "metadata_store.MetadataStore",
    artifact_types: Mapping[str, Mapping[str, str]] = {},
    execution_types: Mapping[str, Mapping[str, str]] = {},
    context_types: Mapping[str, Mapping[str, str]] = {},
) -> dict[str, int]:
    """Register artifact, execution and context types (name -> {property: "STRING"|"INT"|"DOUBLE"}).

    Registering a type that exists with the same properties is a no-op, so a re-run is safe. Returns each
    type's id by name.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    from ml_metadata.proto import metadata_store_pb2

    ids = {}
    for kinds, proto, put in (
        (artifact_types, metadata_store_pb2.ArtifactType, store.put_artifact_type),
        (execution_types, metadata_store_pb2.ExecutionType, store.put_execution_type),
        (context_types, metadata_store_pb2.ContextType, store.put_context_type),
    ):
        for name, properties in kinds.items():
            if name in ids:
                raise ValueError(f"the type name {name!r} is used twice; give each type its own name")
            message = proto(name=name)
            for prop, kind in properties.items():
                message.properties[prop] = _property_type(prop, kind)
            ids[name] = put(message)
    return ids


def _set_properties(message: Any, properties: Mapping[str, PropertyValue], custom: bool = False) -> None:
    target = message.custom_properties if custom else message.properties
    for key, value in properties.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise TypeError(f"property {key!r} must be a str, int or float, got {type(value).__name__}")
        field = "string_value" if isinstance(value, str) else "int_value" if isinstance(value, int) else "double_value"
        setattr(target[key], field, value)


def put_context(store: "metadata_store.MetadataStore", type_name: str, name: str,
                properties: Mapping[str, PropertyValue] = {}) -> "metadata_store_pb2.Context":
    """Create a context (e.g. one pipeline run) of a registered type, or return the one with that name.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    from ml_metadata.proto import metadata_store_pb2

    context_type = _get_type(store.get_context_type, type_name, "context")
    existing = store.get_context_by_type_and_name(type_name, name)
    if existing is not None:
        return existing
    context = metadata_store_pb2.Context(type_id=context_type.id, name=name)
    _set_properties(context, properties)
    [context.id] = store.put_contexts([context])
    return context


def _get_type(getter: Any, type_name: str, what: str) -> Any:
    from ml_metadata import errors

    try:
        return getter(type_name)
    except errors.NotFoundError:
        raise KeyError(f"no {what} type is registered as {type_name!r}; register it with register_types "
                       f"first") from None


def new_artifact(store: "metadata_store.MetadataStore", type_name: str, uri: str | Path,
                 properties: Mapping[str, PropertyValue] = {}) -> "metadata_store_pb2.Artifact":
    """An artifact of a registered type at ``uri``, not stored yet: ``record_execution`` stores it.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    from ml_metadata.proto import metadata_store_pb2

    artifact_type = _get_type(store.get_artifact_type, type_name, "artifact")
    artifact = metadata_store_pb2.Artifact(type_id=artifact_type.id, uri=str(uri),
                                           state=metadata_store_pb2.Artifact.LIVE)
    _set_properties(artifact, properties)
    return artifact


def start_execution(store: "metadata_store.MetadataStore", type_name: str,
                    properties: Mapping[str, PropertyValue] = {}) -> "metadata_store_pb2.Execution":
    """Register a RUNNING execution of a registered type and return it with its id, as TFX does before a
    component runs: the id names the step's output folders (``execution_dir``). ``record_execution(...,
    execution=...)`` then completes it.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    from ml_metadata.proto import metadata_store_pb2

    execution_type = _get_type(store.get_execution_type, type_name, "execution")
    execution = metadata_store_pb2.Execution(type_id=execution_type.id,
                                             last_known_state=metadata_store_pb2.Execution.RUNNING)
    _set_properties(execution, properties)
    [execution.id] = store.put_executions([execution])
    return execution


def execution_dir(root: str | Path, component: str, output: str,
                  execution: "metadata_store_pb2.Execution") -> Path:
    """``<root>/<component>/<output>/<execution id>``: where a step writes an output, as TFX lays it out, so
    each run of a step adds a version instead of overwriting the last one.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    if not getattr(execution, "id", 0):
        raise ValueError("execution_dir needs a stored execution (from start_execution), got one without an id")
    return Path(root) / component / output / str(execution.id)


def record_execution(
    store: "metadata_store.MetadataStore",
    type_name: str,
    inputs: Mapping[str, "metadata_store_pb2.Artifact"],
    outputs: Mapping[str, "metadata_store_pb2.Artifact"],
    context: "metadata_store_pb2.Context | None" = None,
    properties: Mapping[str, PropertyValue] = {},
    execution: "metadata_store_pb2.Execution | None" = None,
) -> tuple["metadata_store_pb2.Execution", dict[str, "metadata_store_pb2.Artifact"]]:
    """Record one finished step: an execution, an INPUT event per stored input artifact, the new output
    artifacts with an OUTPUT event each, all attributed to ``context``, in one transaction.

    ``inputs`` maps a key (such as ``"examples"``) to an artifact already in the store; ``outputs`` maps a
    key to an artifact from ``new_artifact``. ``execution`` is one that ``start_execution`` registered (it
    is marked COMPLETE); without it a new execution is stored. Returns the stored execution and the outputs
    with their ids.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    from ml_metadata.proto import metadata_store_pb2

    execution_type = _get_type(store.get_execution_type, type_name, "execution")
    started = execution
    if started is not None and (not getattr(started, "id", 0) or started.type_id != execution_type.id):
        raise ValueError(f"execution must be a {type_name} execution from start_execution(store, {type_name!r})")
    for key, artifact in inputs.items():
        if not isinstance(artifact, metadata_store_pb2.Artifact) or not artifact.HasField("id"):
            raise ValueError(f"input {key!r} must be an artifact already in the store (one that an earlier "
                             "record_execution returned), got one without an id")
    for key, artifact in outputs.items():
        if not isinstance(artifact, metadata_store_pb2.Artifact) or artifact.HasField("id"):
            raise ValueError(f"output {key!r} must be a new artifact from new_artifact(), not a stored one")
    execution = metadata_store_pb2.Execution(
        type_id=execution_type.id, last_known_state=metadata_store_pb2.Execution.COMPLETE)
    if started is not None:
        execution.CopyFrom(started)
        execution.last_known_state = metadata_store_pb2.Execution.COMPLETE
    _set_properties(execution, properties)

    def event(kind: int, key: str) -> "metadata_store_pb2.Event":
        e = metadata_store_pb2.Event(type=kind)
        e.path.steps.add().key = key
        return e

    pairs = [(a, event(metadata_store_pb2.Event.INPUT, k)) for k, a in inputs.items()]
    pairs += [(a, event(metadata_store_pb2.Event.OUTPUT, k)) for k, a in outputs.items()]
    execution_id, artifact_ids, _ = store.put_execution(
        execution, pairs, [context] if context is not None else [],
        reuse_context_if_already_exist=True)
    [execution] = store.get_executions_by_id([execution_id])
    stored = dict(zip(outputs, store.get_artifacts_by_id(artifact_ids[len(inputs):])))
    return execution, stored


def latest_artifact(store: "metadata_store.MetadataStore", type_name: str,
                    producer: str | None = None) -> "metadata_store_pb2.Artifact":
    """The newest artifact of a type (the highest id), optionally only among those an execution of type
    ``producer`` wrote: how a step finds the latest version of its input, as TFX's resolvers do.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    from ml_metadata.proto import metadata_store_pb2

    _get_type(store.get_artifact_type, type_name, "artifact")
    artifacts = store.get_artifacts_by_type(type_name)
    if producer is not None:
        _get_type(store.get_execution_type, producer, "execution")
        type_id = store.get_execution_type(producer).id
        events = store.get_events_by_artifact_ids([a.id for a in artifacts]) if artifacts else []
        writers = {e.execution_id for e in events if e.type == metadata_store_pb2.Event.OUTPUT}
        by = {x.id for x in store.get_executions_by_id(sorted(writers)) if x.type_id == type_id}
        mine = {e.artifact_id for e in events if e.type == metadata_store_pb2.Event.OUTPUT and e.execution_id in by}
        artifacts = [a for a in artifacts if a.id in mine]
    if not artifacts:
        raise LookupError(f"the store holds no {type_name} artifact" + (f" written by {producer}" if producer else "")
                          + "; run the step that writes it first")
    return max(artifacts, key=lambda a: a.id)


# ----------------------------------------------------------------------------------------- the queries


def display_uri(uri: str, relative_to: str | Path | None) -> str:
    """``uri`` relative to ``relative_to`` when it lies below it (so tables show no machine paths), else as is.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    if relative_to is None:
        return uri
    try:
        return Path(uri).relative_to(Path(relative_to)).as_posix()
    except ValueError:
        return uri


def _value(v: Any) -> PropertyValue:
    return getattr(v, v.WhichOneof("value")) if v.WhichOneof("value") else ""


def _type_names(store: "metadata_store.MetadataStore") -> dict[int, str]:
    return {t.id: t.name for t in store.get_artifact_types()}


def artifacts_frame(store: "metadata_store.MetadataStore",
                    artifacts: "str | Iterable[metadata_store_pb2.Artifact] | None" = None,
                    relative_to: str | Path | None = None) -> "pd.DataFrame":
    """Artifacts as a table, one row each sorted by id: id, type, uri and properties (blank: ``NaN``).

    ``artifacts`` is what to list: ``None`` for every artifact in the store, a type name (``"Schema"``), or
    the artifacts an ML Metadata query returned (``store.get_artifacts_by_context(context_id)``).
    ``relative_to`` shortens the URIs under that folder (the pipeline's root) for display. Values keep their
    type (an int stays an int beside a blank).

    Raises:
        KeyError: no artifact type of that name is registered.
        TypeError: ``artifacts`` holds something that is not an ML Metadata ``Artifact``.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    import pandas as pd
    from ml_metadata.proto import metadata_store_pb2

    if artifacts is None:
        artifacts = store.get_artifacts()
    elif isinstance(artifacts, str):
        _get_type(store.get_artifact_type, artifacts, "artifact")
        artifacts = store.get_artifacts_by_type(artifacts)
    artifacts = list(artifacts)
    wrong = [type(a).__name__ for a in artifacts if not isinstance(a, metadata_store_pb2.Artifact)]
    if wrong:
        raise TypeError(f"artifacts must be a type name or ML Metadata Artifacts (what store.get_artifacts... "
                        f"returns), got {wrong[0]}")
    names = _type_names(store)
    rows = [{"id": a.id, "type": names[a.type_id], "uri": display_uri(a.uri, relative_to),
             **{k: _value(v) for k, v in sorted(a.properties.items())}} for a in sorted(artifacts, key=lambda a: a.id)]
    frame = pd.DataFrame(rows, columns=None if rows else ["id", "type", "uri"])
    for column in frame.columns:  # pandas would turn ints beside a blank into floats (1.0)
        values = [row[column] for row in rows if column in row]
        if len(values) < len(rows) and all(isinstance(v, int) for v in values):
            frame[column] = pd.Series([row.get(column, math.nan) for row in rows], dtype=object)
    return frame.set_index("id")


def executions_frame(store: "metadata_store.MetadataStore") -> "pd.DataFrame":
    """The executions in the store, one row each: id, type, state and the artifact ids they read and wrote.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    import pandas as pd
    from ml_metadata.proto import metadata_store_pb2

    executions = sorted(store.get_executions(), key=lambda e: e.id)
    names = {t.id: t.name for t in store.get_execution_types()}
    events = store.get_events_by_execution_ids([e.id for e in executions])
    rows = []
    for e in executions:
        mine = [ev for ev in events if ev.execution_id == e.id]
        rows.append({
            "id": e.id, "type": names[e.type_id],
            "state": metadata_store_pb2.Execution.State.Name(e.last_known_state),
            "inputs": sorted(ev.artifact_id for ev in mine if ev.type == metadata_store_pb2.Event.INPUT),
            "outputs": sorted(ev.artifact_id for ev in mine if ev.type == metadata_store_pb2.Event.OUTPUT),
        })
    return pd.DataFrame(rows, columns=["id", "type", "state", "inputs", "outputs"]).set_index("id")


def execution_io_frame(store: "metadata_store.MetadataStore", execution_id: int,
                       relative_to: str | Path | None = None) -> "pd.DataFrame":
    """What one execution read (INPUT events) and wrote (OUTPUT events): one row per event.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    import pandas as pd
    from ml_metadata.proto import metadata_store_pb2

    if not store.get_executions_by_id([execution_id]):
        known = sorted(e.id for e in store.get_executions())
        raise KeyError(f"no execution has id {execution_id!r} in this store; its executions are {known} "
                       "(executions_frame lists them)")
    events = store.get_events_by_execution_ids([execution_id])
    artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
    names = _type_names(store)
    rows = [{"event": metadata_store_pb2.Event.Type.Name(e.type), "key": e.path.steps[0].key if e.path.steps else "",
             "artifact id": e.artifact_id, "type": names[artifacts[e.artifact_id].type_id],
             "uri": display_uri(artifacts[e.artifact_id].uri, relative_to)} for e in events]
    return pd.DataFrame(rows).sort_values(["event", "artifact id"]).reset_index(drop=True)


def lineage_frame(store: "metadata_store.MetadataStore", artifact_id: int,
                  relative_to: str | Path | None = None) -> "pd.DataFrame":
    """Walk back from one artifact to the data it came from: each artifact, the execution that produced it
    and that execution's inputs, breadth first, one row per (artifact, producing execution).

    ``depth`` 0 is the artifact asked about; an artifact that no execution produced (the raw data) ends
    a path with an empty ``produced by``.

    Introduced in course2_data/C2_W2_Lab_2_Feature_Engineering_Pipeline.ipynb.
    """
    import pandas as pd
    from ml_metadata.proto import metadata_store_pb2

    if isinstance(artifact_id, bool) or not isinstance(artifact_id, int):
        raise TypeError(f"artifact_id must be an int (an artifact's id), got {type(artifact_id).__name__}")
    if not store.get_artifacts_by_id([artifact_id]):
        known = sorted(a.id for a in store.get_artifacts())
        raise KeyError(f"no artifact has id {artifact_id} in this store; its artifacts are {known} "
                       "(artifacts_frame lists them)")
    names = _type_names(store)
    execution_names = {t.id: t.name for t in store.get_execution_types()}
    rows, seen, frontier, depth = [], set(), [artifact_id], 0
    while frontier:
        artifacts = {a.id: a for a in store.get_artifacts_by_id(frontier)}
        events = store.get_events_by_artifact_ids(frontier)
        producers = {e.artifact_id: e.execution_id for e in events if e.type == metadata_store_pb2.Event.OUTPUT}
        executions = {e.id: e for e in store.get_executions_by_id(sorted(set(producers.values())))}
        next_frontier = []
        for aid in sorted(frontier):
            seen.add(aid)
            execution = executions.get(producers.get(aid))
            rows.append({"depth": depth, "artifact id": aid, "type": names[artifacts[aid].type_id],
                         "uri": display_uri(artifacts[aid].uri, relative_to),
                         "produced by": f"{execution_names[execution.type_id]} (execution {execution.id})"
                         if execution else ""})
            if execution:
                inputs = store.get_events_by_execution_ids([execution.id])
                next_frontier += [e.artifact_id for e in inputs if e.type == metadata_store_pb2.Event.INPUT]
        frontier = sorted(set(next_frontier) - seen)
        depth += 1
    return pd.DataFrame(rows)
