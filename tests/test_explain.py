import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.utils import Bunch

from helpers import explain


def shap_array(images=2, classes=3):
    rng = np.random.default_rng(0)
    return rng.normal(size=(images, 4, 4, 1, classes))


def pi_result(importances):
    importances = np.asarray(importances, dtype=float)
    return Bunch(importances=importances, importances_mean=importances.mean(axis=1),
                 importances_std=importances.std(axis=1))


def test_per_class_splits_the_last_axis():
    values = shap_array()
    arrays = explain.per_class(values, n_classes=3)
    assert len(arrays) == 3 and arrays[0].shape == (2, 4, 4, 1)
    np.testing.assert_array_equal(arrays[2], values[..., 2])


def test_per_class_accepts_the_older_list_layout():
    values = shap_array()
    as_list = [values[..., k] for k in range(3)]
    assert len(explain.per_class(as_list)) == 3


@pytest.mark.parametrize("bad, error, words", [
    ("pixels", TypeError, "array of SHAP values"),
    (None, TypeError, "array of SHAP values"),
    ([["a", "b"]], TypeError, "numeric"),
    (np.zeros((2, 4, 4, 3)), ValueError, "(images, height, width, channels, classes)"),
    ([], ValueError, "one (images, height, width, channels) array per class"),
    ([np.zeros((1, 4, 4, 1)), np.zeros((1, 5, 4, 1))], ValueError, "all of the same shape"),
])
def test_per_class_rejects_bad_input(bad, error, words):
    with pytest.raises(error) as info:
        explain.per_class(bad)
    assert words in str(info.value)


def test_per_class_checks_the_number_of_classes():
    with pytest.raises(ValueError, match="for 10 classes, got 3"):
        explain.per_class(shap_array(), n_classes=10)


def test_class_sums_is_one_row_per_image_one_column_per_class():
    values = np.zeros((2, 4, 4, 1, 3))
    values[0, 0, 0, 0, 1] = 2.0
    values[1, :, :, 0, 2] = 0.5
    table = explain.class_sums(values, ["a", "b", "c"], row_names=["x", "y"])
    assert list(table.columns) == ["a", "b", "c"] and list(table.index) == ["x", "y"]
    assert table.loc["x", "b"] == 2.0 and table.loc["y", "c"] == 8.0 and table.loc["x", "a"] == 0.0


def test_class_sums_rejects_mismatched_names():
    with pytest.raises(ValueError, match="for 3 classes, got 2"):
        explain.class_sums(shap_array(classes=2), ["a", "b", "c"])
    with pytest.raises(ValueError, match="row_names has 1 names for 2 explained images"):
        explain.class_sums(shap_array(), ["a", "b", "c"], row_names=["x"])


def test_plot_shap_images_draws_a_reference_row_and_one_column_per_class():
    values = shap_array(images=2, classes=3)
    images = np.zeros((2, 4, 4, 1))
    fig = explain.plot_shap_images(values, images, ["a", "b", "c"], row_names=["x", "y"],
                                   reference=np.ones((3, 4, 4, 1)), true_classes=[0, 2], title="grid")
    panels = fig.axes[:-1]  # the last axes is the colour bar
    assert len(panels) == 3 * 4
    assert [ax.get_title() for ax in panels[1:4]] == ["a", "b", "c"]
    assert panels[0].texts[0].get_text() == "reference"
    assert panels[4].get_ylabel() == "x" and panels[8].get_ylabel() == "y"
    assert len(panels[5].images) == 2  # the faint image and its SHAP values
    assert panels[5].spines["top"].get_visible() and not panels[6].spines["top"].get_visible()
    assert "99th percentile" in fig.axes[-1].get_ylabel()
    plt.close(fig)


@pytest.mark.parametrize("kwargs, words", [
    ({"images": np.zeros((3, 4, 4, 1))}, "images must hold 2 images"),
    ({"row_names": ["x"]}, "row_names has 1 names"),
    ({"reference": np.zeros((2, 4, 4, 1))}, "one image per class"),
    ({"true_classes": [0]}, "true_classes has 1 entries"),
])
def test_plot_shap_images_rejects_mismatched_input(kwargs, words):
    arguments = {"images": np.zeros((2, 4, 4, 1)), **kwargs}
    with pytest.raises(ValueError, match=words):
        explain.plot_shap_images(shap_array(images=2, classes=3), class_names=["a", "b", "c"], **arguments)
    plt.close("all")


def test_importances_frame_sorts_by_mean_then_name():
    result = pi_result([[0.1, 0.1], [0.3, 0.5], [0.1, 0.1]])
    frame = explain.importances_frame(result, ["b", "a", "c"])
    assert list(frame.index) == ["a", "b", "c"]
    assert frame.loc["a", "mean"] == pytest.approx(0.4) and frame.loc["a", "std"] == pytest.approx(0.1)
    assert explain.top_features(result, ["b", "a", "c"], 2) == ["a", "b"]


def test_importances_frame_rejects_bad_input():
    with pytest.raises(TypeError, match="result of sklearn.inspection.permutation_importance"):
        explain.importances_frame({"importances": [1]}, ["a"])
    with pytest.raises(ValueError, match="3 features but 2 feature names"):
        explain.importances_frame(pi_result(np.zeros((3, 2))), ["a", "b"])
    with pytest.raises(ValueError, match="feature_names is empty"):
        explain.importances_frame(pi_result(np.zeros((0, 2))), [])


@pytest.mark.parametrize("k", [0, 4, 1.5, True, "2"])
def test_top_features_rejects_a_bad_k(k):
    with pytest.raises(ValueError, match="k must be an int from 1 to 3 .the number of features., got"):
        explain.top_features(pi_result(np.zeros((3, 2))), ["a", "b", "c"], k)


def test_plot_importance_boxes_keeps_one_feature_order_across_panels():
    train = pi_result([[0.1, 0.2], [0.5, 0.6], [0.0, 0.0]])
    test = pi_result([[0.3, 0.3], [0.0, 0.1], [0.0, 0.0]])
    fig = explain.plot_importance_boxes({"train": train, "test": test}, ["a", "b", "c"], title="PI")
    try:
        assert fig._suptitle.get_text() == "PI"
        axes = fig.axes
        assert [ax.get_title() for ax in axes] == ["train", "test"]
        for ax in axes:  # most important on top: matplotlib lists tick labels bottom-up
            assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "a", "b"]
            assert ax.get_xlabel().startswith("drop in accuracy")
    finally:
        plt.close(fig)


def test_plot_importance_boxes_rejects_bad_input():
    with pytest.raises(ValueError, match="non-empty dict"):
        explain.plot_importance_boxes({}, ["a"], title="t")
    with pytest.raises(ValueError, match="non-empty dict"):
        explain.plot_importance_boxes([pi_result(np.zeros((1, 2)))], ["a"], title="t")
    with pytest.raises(TypeError, match=r"results\['test'\] must be the result"):
        explain.plot_importance_boxes({"train": pi_result(np.zeros((1, 2))), "test": 3}, ["a"], title="t")
