"""Whose problem a failing check reports: the learner's (``✗``), or the check's own (``⚠ the check itself
failed``) when the check has a bug or the Beam job behind a transform check cannot run."""

import types

import pandas as pd
import pytest

from helpers import checks


def test_a_check_that_crashes_through_its_own_bug_says_so():
    @checks._check
    def buggy(value):
        return {"a": 1}["b"]  # a bug of the check, whatever the learner passed

    verdict = buggy(42, exercise=2)
    assert not verdict.passed
    assert str(verdict).startswith("⚠ Exercise 2: the check itself failed (KeyError: 'b')")
    assert "this is not a mistake in your code" in str(verdict) and "✗" not in str(verdict)


def test_a_bug_inside_a_shipped_check_names_its_line(monkeypatch):
    from helpers.checks import data_pipeline

    def broken_frame(value, name):
        raise AttributeError("'NoneType' object has no attribute 'columns'")

    monkeypatch.setattr(data_pipeline, "_frame", broken_frame)
    verdict = checks.check_feature_selection(["a"], pd.DataFrame({"a": [1]}), "label", 1, exercise=1)
    assert str(verdict).startswith("⚠ Exercise 1: the check itself failed (AttributeError: 'NoneType' object")
    assert "at data_pipeline.py:" in str(verdict)


def test_learner_code_that_raises_is_the_learners_problem():
    @checks._check
    def calls(function):
        with checks._calling("your function"):
            function()
        return "fine"

    verdict = calls(lambda: 1 / 0, exercise=3)
    assert str(verdict).startswith("✗ Exercise 3: calling your function raised ZeroDivisionError: division by zero")

    def stub():
        raise NotImplementedError("Exercise 3: write it")

    assert "your function still raises NotImplementedError (Exercise 3: write it)" in str(calls(stub, exercise=3))
    assert calls(lambda: None, exercise=3).passed


# ------------------------------------------------------------------ a transform check's Beam job failing

@pytest.fixture()
def label_check():
    """check_label's arguments: a module whose derive_label is set per test, rows and their schema."""
    pytest.importorskip("tensorflow_transform")
    from tensorflow_metadata.proto.v0 import schema_pb2

    schema = schema_pb2.Schema()
    schema.feature.add(name="traffic_volume", type=schema_pb2.INT)
    module = types.ModuleType("traffic_transform")
    module.VOLUME_KEY = "traffic_volume"
    rows = pd.DataFrame({"traffic_volume": [1, 5, 9, 20]})
    return module, rows, schema


def test_a_beam_failure_is_not_reported_as_the_learners_mistake(monkeypatch, label_check):
    from helpers.checks import transform_run

    module, rows, schema = label_check
    module.derive_label = lambda inputs: {"traffic_volume_xf": inputs["traffic_volume"]}

    def beam_dies(function, rows, schema, unseen=None):
        raise RuntimeError("Pipeline construction environment and pipeline runtime environment are not compatible")

    monkeypatch.setattr(transform_run, "run_preprocessing", beam_dies)
    verdict = checks.check_label(module, rows, schema, exercise=6)
    assert str(verdict).startswith("⚠ Exercise 6: the check itself failed (Beam could not run the small "
                                   "tf.Transform job that tests derive_label(): RuntimeError: Pipeline")
    assert "not a mistake in your code" in str(verdict) and "Hint: re-run this cell" in str(verdict)


def test_what_the_learners_function_raises_or_returns_is_theirs(monkeypatch, label_check):
    import tensorflow as tf

    from helpers.checks import transform_run

    module, rows, schema = label_check

    def traces(function, rows, schema, unseen=None):  # what tf.Transform does first: call the function
        function({"traffic_volume": tf.constant([[1]], dtype=tf.int64)})
        raise RuntimeError("wrapped by Beam")  # whatever Beam makes of it afterwards

    monkeypatch.setattr(transform_run, "run_preprocessing", traces)

    def raises(inputs):
        raise ValueError("Tensor conversion requested dtype float32 for Tensor with dtype int64")

    module.derive_label = raises
    assert str(checks.check_label(module, rows, schema, exercise=6)).startswith(
        "✗ Exercise 6: tf.Transform could not run derive_label(): ValueError: Tensor conversion")
    module.derive_label = lambda inputs: [inputs["traffic_volume"]]
    assert "derive_label() returned list, expected a dict of tensors" in str(
        checks.check_label(module, rows, schema, exercise=6))
    module.derive_label = lambda inputs: {"traffic_volume_xf": 1.0}
    assert "returned non-tensor values for 'traffic_volume_xf'" in str(
        checks.check_label(module, rows, schema, exercise=6))

    def stub(inputs):
        raise NotImplementedError("Exercise 6: Derive the label")

    module.derive_label = stub
    assert str(checks.check_label(module, rows, schema, exercise=6)).startswith(
        "✗ Exercise 6: derive_label() still raises NotImplementedError (Exercise 6: Derive the label)")


def test_an_op_failing_on_the_data_is_the_learners(monkeypatch, label_check):
    import tensorflow as tf

    from helpers.checks import transform_run

    module, rows, schema = label_check
    module.derive_label = lambda inputs: {"traffic_volume_xf": inputs["traffic_volume"]}

    def op_fails(function, rows, schema, unseen=None):
        raise tf.errors.InvalidArgumentError(None, None, "StringToNumberOp could not correctly convert string")

    monkeypatch.setattr(transform_run, "run_preprocessing", op_fails)
    assert str(checks.check_label(module, rows, schema, exercise=6)).startswith(
        "✗ Exercise 6: the graph derive_label() builds failed on the data: InvalidArgumentError")
