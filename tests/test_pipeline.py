import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ml_metadata")  # the TFX libraries: on the Colab-like profile these tests do not apply

from helpers import pipeline

TYPES = {
    "artifact_types": {"ExternalArtifact": {}, "Examples": {"split_names": "STRING"}, "Schema": {}},
    "execution_types": {"Importer": {}, "ExampleGen": {"num_rows": "INT"}, "SchemaGen": {}},
    "context_types": {"PipelineRun": {"pipeline_name": "STRING"}},
}


@pytest.fixture
def store(tmp_path):
    store = pipeline.open_store(tmp_path / "metadata.sqlite")
    pipeline.register_types(store, **TYPES)
    return store


@pytest.fixture
def chain(store, tmp_path):
    """raw (1) -> ExampleGen -> examples (2) -> SchemaGen -> schema (3), all in one run."""
    run = pipeline.put_context(store, "PipelineRun", "run-1", {"pipeline_name": "p"})
    _, out = pipeline.record_execution(
        store, "Importer", {}, {"result": pipeline.new_artifact(store, "ExternalArtifact", tmp_path / "raw.csv")}, run)
    raw = out["result"]
    gen, out = pipeline.record_execution(
        store, "ExampleGen", {"input_data": raw},
        {"examples": pipeline.new_artifact(store, "Examples", tmp_path / "examples", {"split_names": "train,eval"})},
        run, {"num_rows": 10})
    examples = out["examples"]
    schema_gen, out = pipeline.record_execution(
        store, "SchemaGen", {"examples": examples},
        {"schema": pipeline.new_artifact(store, "Schema", tmp_path / "s")}, run)
    return {"run": run, "raw": raw, "examples": examples, "schema": out["schema"], "gen": gen,
            "schema_gen": schema_gen}


def test_importing_the_module_loads_no_heavy_library(heavy_imports):
    assert heavy_imports("helpers.pipeline", ('tensorflow', 'ml_metadata', 'apache_beam')) == []


def test_open_store_creates_the_sqlite_file_and_reopens_it(tmp_path):
    path = tmp_path / "m.sqlite"
    pipeline.register_types(pipeline.open_store(path), **TYPES)
    assert path.is_file()
    again = pipeline.open_store(path)
    assert {t.name for t in again.get_artifact_types()} >= {"Examples", "Schema"}


def test_open_store_rejects_bad_paths(tmp_path):
    with pytest.raises(TypeError, match="needs the path of a SQLite file"):
        pipeline.open_store(42)
    with pytest.raises(FileNotFoundError, match="does not exist; create it"):
        pipeline.open_store(tmp_path / "missing" / "m.sqlite")


def test_register_types_is_idempotent_and_checks_property_types(store):
    ids = pipeline.register_types(store, **TYPES)
    assert ids == pipeline.register_types(store, **TYPES)
    with pytest.raises(ValueError, match=r"property 'n' has type 'FLOAT'; use one of STRING, INT, DOUBLE"):
        pipeline.register_types(store, artifact_types={"Model": {"n": "FLOAT"}})
    with pytest.raises(ValueError, match="used twice"):
        pipeline.register_types(store, artifact_types={"X": {}}, execution_types={"X": {}})


def test_put_context_returns_the_existing_context(store):
    first = pipeline.put_context(store, "PipelineRun", "run-1")
    assert pipeline.put_context(store, "PipelineRun", "run-1").id == first.id
    with pytest.raises(KeyError, match="no context type is registered as 'Experiment'; register it"):
        pipeline.put_context(store, "Experiment", "e")


def test_record_execution_stores_events_and_the_context(store, chain):
    executions = pipeline.executions_frame(store)
    assert executions["type"].tolist() == ["Importer", "ExampleGen", "SchemaGen"]
    assert (executions["state"] == "COMPLETE").all()
    assert executions.loc[chain["gen"].id, "inputs"] == [chain["raw"].id]
    assert executions.loc[chain["gen"].id, "outputs"] == [chain["examples"].id]
    assert chain["gen"].properties["num_rows"].int_value == 10
    assert len(store.get_artifacts_by_context(chain["run"].id)) == 3
    assert len(store.get_executions_by_context(chain["run"].id)) == 3


def test_record_execution_refuses_unstored_inputs_and_stored_outputs(store, chain, tmp_path):
    unstored = pipeline.new_artifact(store, "Examples", tmp_path / "e")
    with pytest.raises(ValueError, match="input 'examples' must be an artifact already in the store"):
        pipeline.record_execution(store, "SchemaGen", {"examples": unstored}, {})
    with pytest.raises(ValueError, match="output 'schema' must be a new artifact"):
        pipeline.record_execution(store, "SchemaGen", {}, {"schema": chain["schema"]})
    with pytest.raises(KeyError, match="no execution type is registered as 'Trainer'"):
        pipeline.record_execution(store, "Trainer", {}, {})
    with pytest.raises(KeyError, match="no artifact type is registered as 'Model'"):
        pipeline.new_artifact(store, "Model", tmp_path)


def test_properties_must_be_plain_values(store, tmp_path):
    with pytest.raises(TypeError, match="property 'split_names' must be a str, int or float, got list"):
        pipeline.new_artifact(store, "Examples", tmp_path, {"split_names": ["train"]})


def test_artifacts_frame_lists_by_type_with_relative_uris(store, chain, tmp_path):
    frame = pipeline.artifacts_frame(store, relative_to=tmp_path)
    assert frame["type"].tolist() == ["ExternalArtifact", "Examples", "Schema"]
    assert frame["uri"].tolist() == ["raw.csv", "examples", "s"]
    examples = pipeline.artifacts_frame(store, "Examples", relative_to=tmp_path)
    assert examples.index.tolist() == [chain["examples"].id]
    assert examples["split_names"].tolist() == ["train,eval"]
    with pytest.raises(KeyError, match="no artifact type is registered as 'Model'"):
        pipeline.artifacts_frame(store, "Model")


def test_artifacts_frame_takes_the_artifacts_a_query_returned(store, chain, tmp_path):
    frame = pipeline.artifacts_frame(store, store.get_artifacts_by_type("Examples")[::-1] + [chain["raw"]],
                                     relative_to=tmp_path)
    assert frame.index.tolist() == sorted([chain["raw"].id, chain["examples"].id])
    assert frame["type"].tolist() == ["ExternalArtifact", "Examples"]
    assert frame["uri"].tolist() == ["raw.csv", "examples"]
    assert pipeline.artifacts_frame(store, []).empty
    with pytest.raises(TypeError, match="artifacts must be a type name or ML Metadata Artifacts.*got int"):
        pipeline.artifacts_frame(store, [chain["raw"].id])


def test_artifacts_frame_keeps_an_int_property_an_int_beside_a_blank(tmp_path):
    store = pipeline.open_store(tmp_path / "m.sqlite")
    pipeline.register_types(store, artifact_types={"DataSet": {"day": "INT"}, "Schema": {}})
    data_set = pipeline.new_artifact(store, "DataSet", tmp_path / "d.csv", {"day": 1})
    schema = pipeline.new_artifact(store, "Schema", tmp_path / "s")
    [data_set.id, schema.id] = store.put_artifacts([data_set, schema])
    frame = pipeline.artifacts_frame(store, relative_to=tmp_path)
    assert frame.index.dtype == "int64"
    assert frame["day"].tolist()[0] == 1 and type(frame["day"].tolist()[0]) is int
    assert frame["day"].isna().tolist() == [False, True]


def test_artifacts_frame_of_an_empty_store(tmp_path):
    store = pipeline.open_store(tmp_path / "m.sqlite")
    assert pipeline.artifacts_frame(store).empty


def test_execution_io_frame_shows_inputs_and_outputs(store, chain, tmp_path):
    frame = pipeline.execution_io_frame(store, chain["gen"].id, relative_to=tmp_path)
    assert frame[["event", "key", "uri"]].values.tolist() == [
        ["INPUT", "input_data", "raw.csv"], ["OUTPUT", "examples", "examples"]]
    with pytest.raises(KeyError, match=r"no execution has id 99 in this store; its executions are \[1, 2, 3\]"):
        pipeline.execution_io_frame(store, 99)


def test_lineage_frame_walks_back_to_the_raw_data(store, chain, tmp_path):
    frame = pipeline.lineage_frame(store, chain["schema"].id, relative_to=tmp_path)
    assert frame["depth"].tolist() == [0, 1, 2]
    assert frame["uri"].tolist() == ["s", "examples", "raw.csv"]
    assert frame["produced by"].tolist() == [
        f"SchemaGen (execution {chain['schema_gen'].id})", f"ExampleGen (execution {chain['gen'].id})",
        "Importer (execution 1)"]


def test_lineage_frame_rejects_an_unknown_artifact(store, chain):
    with pytest.raises(KeyError, match=r"no artifact has id 42 in this store; its artifacts are \[1, 2, 3\]"):
        pipeline.lineage_frame(store, 42)
    with pytest.raises(TypeError, match="artifact_id must be an int"):
        pipeline.lineage_frame(store, "3")


def test_lineage_of_an_artifact_nobody_produced(store, tmp_path):
    [aid] = store.put_artifacts([pipeline.new_artifact(store, "Schema", tmp_path / "hand-written")])
    frame = pipeline.lineage_frame(store, aid)
    assert frame["produced by"].tolist() == [""]


FRAME = pd.DataFrame({"age": range(60), "job": [f"j{i % 7}" for i in range(60)], "w": np.linspace(0, 1, 60)})


def test_hash_split_is_deterministic_and_independent_of_row_order():
    splits = pipeline.hash_split(FRAME, {"train": 2, "eval": 1})
    assert sum(len(s) for s in splits.values()) == len(FRAME)
    shuffled = pipeline.hash_split(FRAME.sample(frac=1, random_state=0), {"train": 2, "eval": 1})
    assert set(splits["eval"]["age"]) == set(shuffled["eval"]["age"])
    assert 10 <= len(splits["eval"]) <= 30


def test_hash_split_rejects_empty_input_and_empty_splits():
    with pytest.raises(ValueError, match="empty DataFrame"):
        pipeline.hash_split(FRAME.head(0), {"train": 2, "eval": 1})
    with pytest.raises(ValueError, match="split '.*' got no rows out of 1; use more rows"):
        pipeline.hash_split(FRAME.head(1), {"train": 1, "eval": 1})
    with pytest.raises(ValueError, match=r"buckets\['train'\] must be an int of at least 1, got 0"):
        pipeline.hash_split(FRAME, {"train": 0})
    with pytest.raises(ValueError, match="buckets must map each split name"):
        pipeline.hash_split(FRAME, {})
    with pytest.raises(TypeError, match="needs a pandas DataFrame, got list"):
        pipeline.hash_split([1, 2], {"train": 1})


def test_write_examples_round_trips_and_skips_missing_values(tmp_path):
    import tensorflow as tf

    frame = pd.DataFrame({"age": [30, 40], "job": ["a", None], "w": [0.5, float("nan")]})
    path = tmp_path / "Split-train" / "data.gz"
    assert pipeline.write_examples(frame, path) == 2
    records = [tf.train.Example.FromString(r.numpy())
               for r in tf.data.TFRecordDataset([str(path)], compression_type="GZIP")]
    first, second = (r.features.feature for r in records)
    assert first["age"].int64_list.value == [30] and first["job"].bytes_list.value == [b"a"]
    assert first["w"].float_list.value == [0.5]
    assert set(second) == {"age"}


def test_write_examples_refuses_an_empty_split(tmp_path):
    with pytest.raises(ValueError, match="empty DataFrame .* for data.gz"):
        pipeline.write_examples(FRAME.head(0), tmp_path / "data.gz")
    with pytest.raises(TypeError, match="needs a pandas DataFrame"):
        pipeline.write_examples({"a": [1]}, tmp_path / "data.gz")


def test_load_schema_reads_a_written_schema(tmp_path):
    path = tmp_path / "schema.pbtxt"
    path.write_text('feature { name: "age" type: INT }\n')
    assert [f.name for f in pipeline.load_schema(path).feature] == ["age"]


def test_load_schema_explains_a_file_that_does_not_parse(tmp_path):
    path = tmp_path / "schema.pbtxt"
    path.write_text("feature { name: 'age' type: INTEGER }\n")
    with pytest.raises(ValueError, match="schema.pbtxt is not a text-format Schema protocol buffer .*regenerate"):
        pipeline.load_schema(path)
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="not a text-format Schema"):
        pipeline.load_schema(path)


def test_load_schema_rejects_missing_and_empty_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no schema file at .*run the schema step first"):
        pipeline.load_schema(tmp_path / "nope.pbtxt")
    (tmp_path / "empty.pbtxt").write_text("")
    with pytest.raises(ValueError, match="declares no feature"):
        pipeline.load_schema(tmp_path / "empty.pbtxt")


def test_load_module_file_imports_by_path(tmp_path):
    (tmp_path / "transform_module.py").write_text("def preprocessing_fn(inputs):\n    return inputs\n")
    module = pipeline.load_module_file(tmp_path / "transform_module.py", "transform_module_under_test")
    assert module.preprocessing_fn({"a": 1}) == {"a": 1}
    assert sys.modules["transform_module_under_test"] is module
    with pytest.raises(FileNotFoundError, match="no Python module file at"):
        pipeline.load_module_file(tmp_path / "missing.py")


def test_a_started_execution_names_its_folder_and_is_completed(store, chain, tmp_path):
    run = chain["run"]
    started = pipeline.start_execution(store, "ExampleGen", {"num_rows": 5})
    assert store.get_executions_by_id([started.id])[0].last_known_state == started.RUNNING
    folder = pipeline.execution_dir(tmp_path, "ExampleGen", "examples", started)
    assert folder == tmp_path / "ExampleGen" / "examples" / str(started.id)
    done, out = pipeline.record_execution(
        store, "ExampleGen", {"input_data": chain["raw"]},
        {"examples": pipeline.new_artifact(store, "Examples", folder, {"split_names": "train,eval"})},
        run, execution=started)
    assert done.id == started.id and done.last_known_state == done.COMPLETE
    assert done.properties["num_rows"].int_value == 5
    assert len(store.get_executions_by_type("ExampleGen")) == 2
    assert {e.id for e in store.get_executions_by_context(run.id)} >= {started.id}
    with pytest.raises(ValueError, match="needs a stored execution"):
        pipeline.execution_dir(tmp_path, "ExampleGen", "examples", object())
    with pytest.raises(ValueError, match="must be a SchemaGen execution from start_execution"):
        pipeline.record_execution(store, "SchemaGen", {}, {}, run, execution=started)


def test_latest_artifact_is_the_newest_version(store, chain, tmp_path):
    assert pipeline.latest_artifact(store, "Examples").id == chain["examples"].id
    _, out = pipeline.record_execution(
        store, "ExampleGen", {"input_data": chain["raw"]},
        {"examples": pipeline.new_artifact(store, "Examples", tmp_path / "v2", {"split_names": "train,eval"})},
        chain["run"])
    assert pipeline.latest_artifact(store, "Examples").id == out["examples"].id > chain["examples"].id
    assert pipeline.latest_artifact(store, "Examples", producer="ExampleGen").uri.endswith("v2")
    with pytest.raises(LookupError, match="no Examples artifact written by Importer"):
        pipeline.latest_artifact(store, "Examples", producer="Importer")
    with pytest.raises(KeyError, match="no artifact type is registered as 'Model'"):
        pipeline.latest_artifact(store, "Model")
