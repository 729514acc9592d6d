import numpy as np
import pytest

from helpers import data


def test_taxi_rides_have_the_original_columns_and_domains():
    df = data.load_taxi_rides("train", n_rows=3000)
    assert list(df.columns) == data.TAXI_COLUMNS and len(df) == 3000
    assert not df.isna().any().any()
    box = data.TAXI_BOX
    for end in ("pickup", "dropoff"):
        assert df[f"{end}_longitude"].between(box["lon_min"], box["lon_max"]).all()
        assert df[f"{end}_latitude"].between(box["lat_min"], box["lat_max"]).all()
    assert set(df["passenger_count"]) <= set(range(1, 7)) and df["passenger_count"].mode()[0] == 1
    assert df["hourofday"].between(0, 23).all() and df["dayofweek"].between(1, 7).all()
    assert df["fare_amount"].min() >= 2.5 and df["key"].is_unique and df["key"].iloc[0] == "train-000001"


def test_fare_grows_with_distance_and_not_with_passengers():
    df = data.load_taxi_rides("train", n_rows=5000)
    km = np.hypot((df["dropoff_longitude"] - df["pickup_longitude"]) * 84.3,
                  (df["dropoff_latitude"] - df["pickup_latitude"]) * 111.0)
    assert np.corrcoef(km, df["fare_amount"])[0, 1] > 0.9
    slope = np.polyfit(km, df["fare_amount"], 1)[0]
    assert 1.8 < slope < 2.3  # $1.55 per road km, road = 1.3 x straight line
    assert abs(np.corrcoef(df["passenger_count"], df["fare_amount"])[0, 1]) < 0.05


def test_taxi_rides_are_seeded_and_splits_differ():
    a, b = data.load_taxi_rides("train", n_rows=50), data.load_taxi_rides("train", n_rows=50)
    assert a.equals(b)
    assert not a["fare_amount"].equals(data.load_taxi_rides("valid", n_rows=50)["fare_amount"])
    assert not a["fare_amount"].equals(data.load_taxi_rides("train", n_rows=50, seed=7)["fare_amount"])
    assert data.load("taxi_rides", split="test", n_rows=5)["key"].tolist()[0] == "test-000001"


@pytest.mark.parametrize("kwargs, message", [
    ({"split": "validation"}, "split must be one of"),
    ({"n_rows": 0}, "n_rows must be an int of at least 1, got"),
    ({"n_rows": 2.5}, "n_rows must be an int of at least 1, got"),
    ({"n_rows": True}, "n_rows must be an int of at least 1, got"),
    ({"seed": -1}, "seed must be an int of at least 0, got"),
    ({"seed": "42"}, "seed must be an int of at least 0, got"),
])
def test_taxi_rides_refuse_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.load_taxi_rides(**kwargs)
