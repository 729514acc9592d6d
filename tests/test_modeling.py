import sys

import pytest

from helpers import modeling


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
