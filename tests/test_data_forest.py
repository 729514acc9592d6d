"""The generated Covertype-like data: columns, domains, imbalance, seeding and bad arguments."""

import pytest

from helpers import data
from helpers.data.forest import COVERTYPE_COLUMNS, COVERTYPE_NUMERIC, SOIL_TYPES, WILDERNESS_AREAS


def test_covertype_has_the_columns_and_domains_of_the_original():
    df = data.load("covertype", n_rows=3000)
    assert list(df.columns) == COVERTYPE_COLUMNS and len(df) == 3000
    assert all(str(df[c].dtype) == "int64" for c in [*COVERTYPE_NUMERIC, "Cover_Type"])
    assert df["Elevation"].between(1859, 3858).all() and df["Aspect"].between(0, 360).all()
    assert df["Slope"].between(0, 66).all()
    assert all(df[c].between(0, 254).all() for c in ("Hillshade_9am", "Hillshade_Noon", "Hillshade_3pm"))
    assert set(df["Wilderness_Area"]) == set(WILDERNESS_AREAS) and set(df["Soil_Type"]) <= set(SOIL_TYPES)
    assert len(SOIL_TYPES) == 40 and df["Soil_Type"].nunique() == 40


def test_cover_type_is_imbalanced_and_driven_by_elevation():
    df = data.load("covertype", n_rows=3000)
    share = df["Cover_Type"].value_counts(normalize=True)
    assert set(share.index) == set(range(7))
    assert share[1] > share[0] > 0.3 and share[3] < 0.02
    by_class = df.groupby("Cover_Type")["Elevation"].mean()
    assert by_class[6] > by_class[0] > by_class[1] > by_class[2] > by_class[3]


def test_covertype_is_seeded():
    assert data.load("covertype", n_rows=50).equals(data.load("covertype", n_rows=50))
    assert not data.load("covertype", n_rows=50).equals(data.load("covertype", n_rows=50, seed=7))


@pytest.mark.parametrize("kwargs, message", [
    ({"n_rows": 0}, "n_rows must be an int of at least 1, got"),
    ({"n_rows": "10"}, "n_rows must be an int of at least 1, got"),
    ({"n_rows": True}, "n_rows must be an int of at least 1, got"),
    ({"seed": -1}, "seed must be an int of at least 0, got"),
    ({"seed": 1.5}, "seed must be an int of at least 0, got"),
])
def test_bad_arguments_are_refused_clearly(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.load("covertype", **kwargs)
