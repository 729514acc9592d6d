"""The data-set registry and what every loader shares: ``register``, ``load``, ``available``,
``require_columns``, ``read_vendored`` (a vendored file, checked against its sha256) and the errors.

The loader modules import it (``from .registry import register``); ``helpers.data`` re-exports it, so a
notebook calls ``data.load("adult")``.

Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
"""


from __future__ import annotations

import difflib
import gzip
import hashlib
from collections.abc import Callable, Iterable
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported inside the functions, so `import helpers.data` stays cheap
    import pandas as pd

LOADERS: dict[str, Callable[..., "pd.DataFrame"]] = {}


class _MessageKeyError(KeyError):
    def __str__(self) -> str:  # KeyError would print the message in quotes, escaped
        return str(self.args[0])


class UnknownDatasetError(_MessageKeyError):
    """Raised by ``load`` for a name that no loader is registered under."""


class MissingColumnsError(_MessageKeyError):
    """Raised by ``require_columns`` when a DataFrame lacks columns a step needs."""


class DataIntegrityError(RuntimeError):
    """Raised when a vendored file is not the expected copy (checksum or row count differs)."""


def register(name: str) -> Callable[[Callable[..., "pd.DataFrame"]], Callable[..., "pd.DataFrame"]]:
    """Decorator: make a loader available as ``load(name)``."""

    def add(loader: Callable[..., "pd.DataFrame"]) -> Callable[..., "pd.DataFrame"]:
        if name in LOADERS:
            raise ValueError(f"a loader is already registered as {name!r}")
        LOADERS[name] = loader
        return loader

    return add


def available() -> list[str]:
    """The names ``load`` accepts, sorted."""
    return sorted(LOADERS)


def load(name: str, **kwargs) -> "pd.DataFrame":
    """Load a dataset by its registered name; keyword arguments go to its loader."""
    if name not in LOADERS:
        close = difflib.get_close_matches(str(name), LOADERS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownDatasetError(
            f"no dataset is registered as {name!r}.{hint} Known datasets: {', '.join(available())}."
        )
    return LOADERS[name](**kwargs)


def require_columns(df: "pd.DataFrame", columns: Iterable[str], what: str = "this step") -> None:
    """Raise a clear error when ``df`` is empty, not a DataFrame, or lacks any of ``columns``."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} needs a pandas DataFrame, got {type(df).__name__}")
    if df.empty:
        raise ValueError(f"{what} got an empty DataFrame (0 rows); check the filter or split that produced it")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MissingColumnsError(
            f"{what} needs the column(s) {missing}, which the DataFrame lacks; "
            f"it has: {list(df.columns)}"
        )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_vendored(dataset: str, name: str, sha256: str) -> bytes:
    """The bytes of ``helpers/datasets/<dataset>/<name>`` (gunzipped when it ends in ``.gz``), checked.

    Raises ``DataIntegrityError`` naming the file and the command that restores it when the file is
    missing or its sha256 (of the uncompressed bytes) differs from ``sha256``.
    """
    path = resources.files("helpers").joinpath("datasets", dataset, name)
    restore = f"restore it with `git checkout -- helpers/datasets/{dataset}`"
    if not path.is_file():
        raise DataIntegrityError(f"helpers/datasets/{dataset}/{name} is missing; {restore}")
    raw = path.read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    if _sha256(raw) != sha256:
        raise DataIntegrityError(
            f"helpers/datasets/{dataset}/{name} is not the expected copy (sha256 differs); {restore}"
        )
    return raw
