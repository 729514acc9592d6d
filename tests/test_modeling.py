import sys

import pytest

from helpers import modeling

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
    with modeling.quiet_kfp() as log:
        print(RUNNER_LOG, end="")
        print("a warning", file=sys.stderr)
    assert capsys.readouterr() == ("", "")
    assert "\x1b[" not in log.text and "a warning" in log.text
    assert log.task_statuses() == {"example-gen": "SUCCESS", "tuner": "FAILURE"}
    assert list(log.task_statuses()) == ["example-gen", "tuner"]  # in the order they finished
    assert log.pipeline_status() == "FAILURE"
    assert log.tail(1) == "a warning"


def test_quiet_kfp_with_no_pipeline_has_no_status():
    with modeling.quiet_kfp() as log:
        print("nothing ran")
    assert log.task_statuses() == {} and log.pipeline_status() is None


def test_quiet_kfp_shows_the_log_tail_when_the_block_fails():
    with pytest.raises(modeling.PipelineRunError) as info:
        with modeling.quiet_kfp(tail=2) as log:
            print("line 1\nline 2\nTraceback: the step's own error")
            raise RuntimeError("Pipeline \x1b[95m'p'\x1b[0m finished with status FAILURE")
    message = str(info.value)
    assert message.startswith("Pipeline 'p' finished with status FAILURE")  # colours removed
    assert "the last 2 lines" in message and "Traceback: the step's own error" in message
    assert "line 1" not in message
    assert isinstance(info.value.__cause__, RuntimeError) and "line 1" in log.text


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "40"])
def test_quiet_kfp_and_tail_refuse_a_bad_line_count(bad):
    with pytest.raises(ValueError, match="tail must be a positive int"):
        with modeling.quiet_kfp(tail=bad):
            pass
    with pytest.raises(ValueError, match="lines must be a positive int"):
        modeling.RunnerLog().tail(bad)


def test_quiet_kfp_around_a_real_local_run(tmp_path):
    from kfp import dsl, local

    @dsl.component(base_image="python:3.11", install_kfp_package=False)
    def add(a: int, b: int) -> int:
        print("adding")
        return a + b

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path))
    with modeling.quiet_kfp() as log:
        task = add(a=2, b=3)
    assert task.output == 5
    assert log.task_statuses() == {"add": "SUCCESS"} and "adding" in log.text


# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    from helpers import env

    env.quiet()
    import tensorflow as tf

    class Doubler(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
        def serve(self, x):
            return {"doubled": 2 * x}

    folder = tmp_path_factory.mktemp("saved") / "doubler"
    module = Doubler()
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.serve})
    return folder


def test_describe_saved_model_prints_the_serving_signature(saved_model):
    text = modeling.describe_saved_model(saved_model, signature="serving_default")
    assert text.startswith("MetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:")
    assert "signature_def['serving_default']:" in text
    assert "inputs['x'] tensor_info:\n        dtype: DT_FLOAT\n        shape: (-1, 3)" in text
    assert "outputs['doubled'] tensor_info:" in text and "Method name is: tensorflow/serving/predict" in text
    assert modeling.describe_saved_model(str(saved_model)).count("signature_def[") >= 1  # all, str path


def test_describe_saved_model_refuses_what_is_not_a_saved_model(saved_model, tmp_path):
    with pytest.raises(TypeError, match="path must be a folder path"):
        modeling.describe_saved_model(42)
    with pytest.raises(FileNotFoundError, match="no SavedModel folder"):
        modeling.describe_saved_model(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="holds no saved_model.pb"):
        modeling.describe_saved_model(tmp_path)
    with pytest.raises(ValueError, match=r"no MetaGraph tagged \['train'\]; its tag sets are \[\['serve'\]\]"):
        modeling.describe_saved_model(saved_model, tag_set="train")
    with pytest.raises(ValueError, match="no signature 'predict'; it has"):
        modeling.describe_saved_model(saved_model, signature="predict")


# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_input_model():
    from helpers import env

    env.quiet()
    import keras

    a, b = keras.Input(shape=(1,), name="a"), keras.Input(shape=(1,), name="b")
    joined = keras.layers.Concatenate(name="joined")([a, b])
    hidden = keras.layers.Dense(4, name="hidden")(joined)
    out = keras.layers.Dense(1, name="fare")(keras.layers.Concatenate(name="skip")([hidden, a]))
    return keras.Model({"a": a, "b": b}, out, name="toy")


def test_model_edges_follows_the_functional_graph(two_input_model):
    assert modeling.model_edges(two_input_model) == [
        ("a", "joined"), ("b", "joined"), ("joined", "hidden"), ("hidden", "skip"), ("a", "skip"), ("skip", "fare"),
    ]


def test_plot_wiring_draws_one_box_per_layer_and_one_arrow_per_edge(two_input_model):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = modeling.plot_wiring(two_input_model, title="toy")
    ax = fig.axes[0]
    boxes = [t.get_text() for t in ax.texts if t.get_text()]
    arrows = [t for t in ax.texts if type(t).__name__ == "Annotation"]
    assert len(boxes) == 6 and "hidden\nDense (None, 4)" in boxes
    assert len(arrows) == 6
    assert ax.get_title() == "toy"
    plt.close(fig)


def test_plot_wiring_draws_into_a_given_panel(two_input_model):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2)
    assert modeling.plot_wiring(two_input_model, title="right", ax=right) is fig
    assert right.get_title() == "right" and len([t for t in right.texts if t.get_text()]) == 6
    assert not left.texts
    plt.close(fig)


@pytest.mark.parametrize("bad", ["a model", None, object()])
def test_model_edges_and_plot_wiring_refuse_what_is_not_a_model(bad):
    with pytest.raises(TypeError, match="needs a built Keras functional model"):
        modeling.model_edges(bad)
    with pytest.raises(TypeError, match="needs a built Keras functional model"):
        modeling.plot_wiring(bad)


def test_summary_text_is_the_summary_in_plain_text(two_input_model):
    text = modeling.summary_text(two_input_model)
    assert "\x1b[" not in text
    assert text.startswith('Model: "toy"')
    assert "hidden" in text and "Total params: 18" in text


@pytest.mark.parametrize("bad", ["a model", None, object()])
def test_summary_text_refuses_what_is_not_a_model(bad):
    with pytest.raises(TypeError, match="needs a Keras model"):
        modeling.summary_text(bad)


def test_importing_modeling_imports_no_heavy_library():
    import subprocess

    code = "import sys, helpers.modeling; print(any(m in sys.modules for m in ('tensorflow', 'keras', 'kfp')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
