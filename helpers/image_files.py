"""Image files in class folders: write them, plant the broken files real collections hold, find the files
that cannot be decoded, count what is left.

The layout is the one ``keras.utils.image_dataset_from_directory`` reads: ``<root>/<class>/<file>``, with
one such root per split (``images/train``, ``images/eval``). Pillow and pandas are imported inside the
functions, so ``import helpers.image_files`` stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.arguments import whole

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["IMAGE_SUFFIXES", "write_class_folders", "plant_bad_files", "find_bad_images", "count_files"]

# The extensions keras.utils.image_dataset_from_directory reads; it skips every other file silently.
IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def _folder(root: str | Path, what: str) -> Path:
    if not isinstance(root, (str, Path)) or not str(root):
        raise TypeError(f"{what} needs a folder path (str or pathlib.Path), got {root!r}")
    return Path(root)


def _files(root: Path) -> list[Path]:
    """Every file under ``root`` (any depth), sorted, so results never depend on the file system's order."""
    if not root.is_dir():
        raise FileNotFoundError(f"there is no folder {root}; write the images first (write_class_folders)")
    return sorted(p for p in root.rglob("*") if p.is_file())


def write_class_folders(images: "np.ndarray", labels: Sequence, root: str | Path) -> dict[str, int]:
    """Write each greyscale image as a PNG file to ``<root>/<label>/img_<index>.png``.

    Args:
        images: ``N x H x W`` (or ``N x H x W x 1``) grey levels 0-255.
        labels: one class per image; its text is the folder name.
        root: the split's folder (e.g. ``outputs/<lab>/images/train``). It must be empty or absent, so files
            of an earlier run never mix with the new ones.

    Returns:
        The number of files written per class, classes sorted by name.

    Introduced in course1_intro/C1_W2_Lab_1_Journey_Through_Data.ipynb.
    """
    import numpy as np
    from PIL import Image

    root = _folder(root, "write_class_folders")
    arr = np.asarray(images)
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim != 3 or len(arr) == 0:
        raise ValueError(f"images must be a non-empty N x H x W array (or N x H x W x 1), got shape {arr.shape}")
    if arr.min() < 0 or arr.max() > 255:
        raise ValueError(f"images must hold grey levels 0-255, got values from {arr.min()} to {arr.max()}")
    labels = [str(label) for label in labels]
    if len(labels) != len(arr):
        raise ValueError(f"got {len(labels)} labels for {len(arr)} images")
    bad = sorted({label for label in labels if not label or label in (".", "..") or "/" in label or "\\" in label})
    if bad:
        raise ValueError(f"labels become folder names and cannot be empty or contain slashes: {bad}")
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty; delete it first (shutil.rmtree) so the files of an earlier "
                              "run do not mix with the new ones")
    width = len(str(len(arr) - 1))
    counts: dict[str, int] = {}
    for i, (image, label) in enumerate(zip(arr.astype(np.uint8), labels)):
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image, mode="L").save(folder / f"img_{i:0{width}d}.png")
        counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items()))


def plant_bad_files(root: str | Path, truncated: int = 2, garbage: int = 2, empty: int = 2,
                    not_image: int = 1, seed: int = 0) -> "pd.DataFrame":
    """Damage the image folders under ``root`` the way real collections get damaged, at random places.

    - ``truncated``: a real image cut to half its bytes (a copy or download that stopped);
    - ``garbage``: a ``.png`` file of random bytes (a file that only claims to be an image);
    - ``empty``: a real image overwritten with 0 bytes (a write that never happened);
    - ``not_image``: a ``Thumbs.db`` file (what a file browser leaves in a photo folder).

    Args:
        root: a folder whose sub-folders (any depth) hold the images, e.g. ``images`` with
            ``train/<class>`` and ``eval/<class>`` inside.
        truncated, garbage, empty, not_image: how many files of each kind.
        seed: picks the folders and files, and the random bytes.

    Returns:
        One row per planted file, sorted: ``file`` (path relative to ``root``) and ``defect``.

    Introduced in course1_intro/C1_W2_Lab_1_Journey_Through_Data.ipynb.
    """
    import numpy as np
    import pandas as pd

    root = _folder(root, "plant_bad_files")
    numbers = {"truncated": truncated, "garbage": garbage, "empty": empty, "not_image": not_image}
    for name, n in numbers.items():
        whole(name, n, 0)
    whole("seed", seed, 0)
    images = [p for p in _files(root) if p.suffix.lower() in IMAGE_SUFFIXES and p.stat().st_size > 0]
    if len(images) < truncated + empty:
        raise ValueError(f"{root} holds {len(images)} intact images, fewer than the {truncated + empty} "
                         "to truncate or empty; write the images first, or plant fewer defects")
    folders = sorted({p.parent for p in images})
    rng = np.random.default_rng(seed)
    victims = [images[i] for i in rng.choice(len(images), size=truncated + empty, replace=False)]
    planted = []
    for path in victims[:truncated]:
        raw = path.read_bytes()
        path.write_bytes(raw[: len(raw) // 2])
        planted.append((path, "truncated"))
    for path in victims[truncated:]:
        path.write_bytes(b"")
        planted.append((path, "empty"))
    for i in range(garbage):
        path = folders[rng.integers(len(folders))] / f"download_{i}.png"
        path.write_bytes(rng.integers(0, 256, size=int(rng.integers(200, 400)), dtype=np.uint8).tobytes())
        planted.append((path, "garbage"))
    for i in sorted(rng.choice(len(folders), size=min(not_image, len(folders)), replace=False)):
        path = folders[i] / "Thumbs.db"
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))  # an OLE header, as Windows writes
        planted.append((path, "not an image"))
    rows = [{"file": p.relative_to(root).as_posix(), "defect": d} for p, d in planted]
    return pd.DataFrame(rows, columns=["file", "defect"]).sort_values("file", ignore_index=True)


def _problem(path: Path) -> str:
    """Why ``path`` cannot be used as a training image, or ``""`` when it decodes."""
    from PIL import Image, ImageFile, UnidentifiedImageError

    if path.stat().st_size == 0:
        return "empty file (0 bytes)"
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return f"not an image file ({path.suffix or 'no extension'})"
    permissive = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False  # another library may have set it; a cut file must fail here
    try:
        with Image.open(path) as image:
            image.load()  # decodes every pixel; Image.verify() alone misses a cut-off image
    except UnidentifiedImageError:
        return "not an image: no known image format"
    except PermissionError:  # the file may be intact: this user may not read it
        return "unreadable: permission denied (the file may be intact; let this user read it, e.g. chmod a+r)"
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, OSError) and error.errno is not None:  # the system failed to read, not the decoder
            return f"unreadable: {error.strerror or error} (the file may be intact; check the disk and retry)"
        if "truncated" in str(error).lower():
            return "truncated: the image data ends early"
        return "damaged: the image data cannot be decoded"
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = permissive
    return ""


def find_bad_images(root: str | Path) -> "pd.DataFrame":
    """Try to decode every file under ``root`` (any depth) and list the ones that fail, and why.

    A file fails when it is empty, has no image extension, or Pillow cannot decode all its pixels. A file
    the system cannot read (no read permission, an I/O error) is listed as ``unreadable``, not as damaged:
    its bytes may be fine.

    Returns:
        One row per bad file, sorted: ``file`` (path relative to ``root``), ``bytes``, ``problem``.

    Introduced in course1_intro/C1_W2_Lab_1_Journey_Through_Data.ipynb.
    """
    import pandas as pd

    root = _folder(root, "find_bad_images")
    rows = []
    for path in _files(root):
        problem = _problem(path)
        if problem:
            rows.append({"file": path.relative_to(root).as_posix(), "bytes": path.stat().st_size,
                         "problem": problem})
    return pd.DataFrame(rows, columns=["file", "bytes", "problem"])


def count_files(root: str | Path) -> "pd.DataFrame":
    """The number of files in each class folder of each split: ``<root>/<split>/<class>/<file>``.

    Returns:
        A table with one row per class and one column per split (both sorted by name).

    Introduced in course1_intro/C1_W2_Lab_1_Journey_Through_Data.ipynb.
    """
    import pandas as pd

    root = _folder(root, "count_files")
    files = [p.relative_to(root).parts for p in _files(root)]
    deep = [parts for parts in files if len(parts) == 3]
    if not deep:
        raise ValueError(f"{root} holds no <split>/<class>/<file> files; write the images first")
    table = pd.DataFrame(deep, columns=["split", "class", "file"]).pivot_table(
        index="class", columns="split", values="file", aggfunc="count", fill_value=0)
    table.columns.name, table.index.name = None, "class"
    return table.astype(int)
