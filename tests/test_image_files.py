"""Unit tests of helpers.image_files: class folders written, bad files planted, found with their reason, and
counted. Each also feeds bad input and checks the error says what is wrong and how to fix it."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from helpers import image_files


@pytest.fixture()
def images() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)


@pytest.fixture()
def tree(tmp_path, images):
    """``images/train`` (8 images) and ``images/eval`` (4 images) in class folders a and b."""
    root = tmp_path / "images"
    image_files.write_class_folders(images[:8], ["a", "b"] * 4, root / "train")
    image_files.write_class_folders(images[8:], ["a", "b"] * 2, root / "eval")
    return root


# ---- write_class_folders ------------------------------------------------------------------------------

def test_write_class_folders_writes_decodable_pngs(tmp_path, images):
    counts = image_files.write_class_folders(images[..., None], [3, 5, 8, 3] * 3, tmp_path / "train")
    assert counts == {"3": 6, "5": 3, "8": 3}
    files = sorted((tmp_path / "train" / "3").iterdir())
    assert [f.name for f in files[:2]] == ["img_00.png", "img_03.png"]
    with Image.open(files[0]) as image:
        assert image.mode == "L" and image.size == (28, 28)
        assert np.array_equal(np.asarray(image), images[0])


def test_write_class_folders_refuses_a_folder_in_use(tmp_path, images):
    image_files.write_class_folders(images[:2], ["a", "b"], tmp_path / "train")
    with pytest.raises(FileExistsError, match="not empty; delete it first"):
        image_files.write_class_folders(images[:2], ["a", "b"], tmp_path / "train")


@pytest.mark.parametrize("bad, message", [
    (np.zeros((0, 28, 28)), "non-empty N x H x W"),
    (np.zeros((28, 28)), "non-empty N x H x W"),
    (np.zeros((2, 28, 28, 3)), "non-empty N x H x W"),
    (np.full((2, 4, 4), 300), "grey levels 0-255"),
    (np.full((2, 4, 4), -1), "grey levels 0-255"),
])
def test_write_class_folders_rejects_bad_images(tmp_path, bad, message):
    with pytest.raises(ValueError, match=message):
        image_files.write_class_folders(bad, ["a"] * len(bad), tmp_path / "x")


def test_write_class_folders_rejects_bad_labels_and_root(tmp_path, images):
    with pytest.raises(ValueError, match="2 labels for 3 images"):
        image_files.write_class_folders(images[:3], ["a", "b"], tmp_path / "x")
    with pytest.raises(ValueError, match="cannot be empty or contain slashes"):
        image_files.write_class_folders(images[:2], ["a", "../b"], tmp_path / "x")
    with pytest.raises(TypeError, match="folder path"):
        image_files.write_class_folders(images[:2], ["a", "b"], None)


# ---- plant_bad_files and find_bad_images ----------------------------------------------------------------

def test_plant_and_find_bad_files(tree):
    planted = image_files.plant_bad_files(tree, truncated=2, garbage=2, empty=2, not_image=1, seed=0)
    assert planted["defect"].value_counts().to_dict() == {"truncated": 2, "garbage": 2, "empty": 2,
                                                          "not an image": 1}
    bad = image_files.find_bad_images(tree)
    assert list(bad.columns) == ["file", "bytes", "problem"]
    assert sorted(bad["file"]) == sorted(planted["file"])
    reasons = dict(zip(bad["file"], bad["problem"]))
    for file, defect in zip(planted["file"], planted["defect"]):
        expected = {"truncated": "truncated", "garbage": "no known image format", "empty": "0 bytes",
                    "not an image": "not an image file (.db)"}[defect]
        assert expected in reasons[file]
    assert (bad.loc[bad["problem"].str.startswith("empty"), "bytes"] == 0).all()


def test_plant_bad_files_is_reproducible(tmp_path, images):
    runs = []
    for name in ("one", "two"):
        image_files.write_class_folders(images, ["a", "b", "c"] * 4, tmp_path / name / "train")
        runs.append(image_files.plant_bad_files(tmp_path / name, seed=7))
    pd.testing.assert_frame_equal(runs[0], runs[1])


def test_find_bad_images_on_a_clean_tree_is_empty(tree):
    bad = image_files.find_bad_images(tree)
    assert bad.empty and list(bad.columns) == ["file", "bytes", "problem"]


def test_find_bad_images_reports_a_damaged_image(tree):
    path = sorted((tree / "train" / "a").iterdir())[0]
    raw = bytearray(path.read_bytes())
    raw[60:80] = bytes(20)  # zeros inside the compressed pixels: the header is fine, the data is not
    path.write_bytes(bytes(raw))
    bad = image_files.find_bad_images(tree)
    assert bad["file"].tolist() == ["train/a/img_0.png"]
    assert bad["problem"].iloc[0].startswith(("damaged", "truncated"))


def test_find_bad_images_ignores_a_permissive_pillow_setting(tree, monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as some libraries set it
    image_files.plant_bad_files(tree, truncated=1, garbage=0, empty=0, not_image=0)
    assert image_files.find_bad_images(tree)["problem"].tolist() == ["truncated: the image data ends early"]
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored


@pytest.mark.parametrize("kwargs, message", [
    ({"truncated": -1}, "truncated must be an int of at least 0, got -1"),
    ({"garbage": 1.5}, "garbage must be an int of at least 0, got 1.5"),
    ({"empty": True}, "empty must be an int of at least 0, got True"),
    ({"seed": "0"}, "seed must be an int of at least 0, got .0."),
    ({"truncated": 10, "empty": 10}, "fewer than the 20"),
])
def test_plant_bad_files_rejects_bad_numbers(tree, kwargs, message):
    with pytest.raises(ValueError, match=message):
        image_files.plant_bad_files(tree, **kwargs)


def test_missing_folders_say_what_to_do(tmp_path):
    for function in (image_files.plant_bad_files, image_files.find_bad_images, image_files.count_files):
        with pytest.raises(FileNotFoundError, match="write the images first"):
            function(tmp_path / "nowhere")
    with pytest.raises(TypeError, match="folder path"):
        image_files.find_bad_images(42)


# ---- count_files --------------------------------------------------------------------------------------

def test_count_files_tables_classes_by_split(tree):
    counts = image_files.count_files(tree)
    assert counts.to_dict() == {"eval": {"a": 2, "b": 2}, "train": {"a": 4, "b": 4}}
    assert counts.index.name == "class"


def test_count_files_fills_a_class_missing_from_a_split(tree):
    for path in (tree / "eval" / "b").iterdir():
        path.unlink()
    (tree / "eval" / "b").rmdir()
    assert image_files.count_files(tree).loc["b", "eval"] == 0


def test_count_files_needs_split_and_class_folders(tmp_path, images):
    image_files.write_class_folders(images[:2], ["a", "b"], tmp_path / "flat")
    with pytest.raises(ValueError, match="<split>/<class>/<file>"):
        image_files.count_files(tmp_path / "flat" / "a")


# ---- files the system cannot read ---------------------------------------------------------------------

def test_a_file_without_read_permission_is_unreadable_not_damaged(tree, monkeypatch):
    """Pillow's open raises PermissionError (as it does for a user without read permission): not damaged."""
    from PIL import Image

    blocked = tree / "train" / "a" / "img_0.png"
    real_open = Image.open

    def open_or_refuse(fp, *args, **kwargs):
        if isinstance(fp, (str, type(blocked))) and str(fp) == str(blocked):
            raise PermissionError(13, "Permission denied", str(fp))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", open_or_refuse)
    bad = image_files.find_bad_images(tree)
    assert bad["file"].tolist() == ["train/a/img_0.png"]
    problem = bad["problem"].iloc[0]
    assert problem.startswith("unreadable: permission denied") and "damaged" not in problem, problem
    assert "may be intact" in problem and "chmod" in problem


def test_an_io_error_is_unreadable_not_damaged(tree, monkeypatch):
    from PIL import Image

    def failing_open(fp, *args, **kwargs):
        raise OSError(5, "Input/output error", str(fp))

    monkeypatch.setattr(Image, "open", failing_open)
    problems = set(image_files.find_bad_images(tree)["problem"])
    assert problems == {"unreadable: Input/output error (the file may be intact; check the disk and retry)"}


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_a_real_chmod_000_file_is_unreadable(tree):
    blocked = tree / "eval" / "b" / sorted(p.name for p in (tree / "eval" / "b").iterdir())[0]
    blocked.chmod(0)
    try:
        bad = image_files.find_bad_images(tree)
    finally:
        blocked.chmod(0o644)
    assert bad["problem"].tolist() == [
        "unreadable: permission denied (the file may be intact; let this user read it, e.g. chmod a+r)"]
