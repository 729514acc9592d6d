"""Generated taxi rides in a New-York-like box, with a fare that grows with the distance travelled.

There is no offline copy of the NYC taxi fare data (the original lab reads CSV extracts of the BigQuery
public dataset from a cloud bucket), so this seeded generator mimics their columns and domains.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpers.arguments import whole

from .registry import DataIntegrityError, register

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TAXI_COLUMNS", "TAXI_BOX", "load_taxi_rides"]

TAXI_COLUMNS = ["fare_amount", "pickup_longitude", "pickup_latitude", "dropoff_longitude", "dropoff_latitude",
                "passenger_count", "hourofday", "dayofweek", "key"]
# The area rides start and end in (degrees): New York City's five boroughs, roughly.
TAXI_BOX = {"lon_min": -74.05, "lon_max": -73.75, "lat_min": 40.58, "lat_max": 40.90}
_SPLIT_OFFSET = {"train": 0, "valid": 1_000_003, "test": 2_000_003}  # a different stream per split
_KM_PER_DEGREE_LAT = 111.0
_KM_PER_DEGREE_LON = 84.3  # at 40.7 degrees north


@register("taxi_rides")
def load_taxi_rides(split: str = "train", n_rows: int = 10_000, seed: int = 42) -> "pd.DataFrame":
    """Generated NYC-taxi-like rides: pick-up and drop-off coordinates, passengers, time, and the fare.

    Provenance: **generated** (seeded NumPy), not real rides. It mimics the columns and value ranges of the
    NYC TLC yellow-cab extracts the original lab reads (pick-up/drop-off longitude and latitude in degrees,
    passenger count, hour of day, day of week, fare in US dollars). Pick-ups cluster around Midtown
    Manhattan, trip lengths are log-normal (median about 2.5 km), and the fare follows the metered tariff:
    $2.50 flag drop plus about $1.55 per road kilometre (road distance = 1.3 x straight-line distance),
    a $1 evening and rush-hour surcharge, and noise (traffic, tips, tolls) of about $1.50. Passenger
    count does not change the fare, as in a real cab. No licence applies (synthetic data).

    Args:
        split: ``"train"``, ``"valid"`` or ``"test"``: each split draws its own rides from the same process.
        n_rows: how many rides (at least 1).
        seed: the random seed; the same ``(split, n_rows, seed)`` always gives the same rides.

    Returns:
        A DataFrame of ``TAXI_COLUMNS``; ``key`` is a unique ride id such as ``"train-000001"``.

    Introduced in course3_modeling/C3_W2_Lab_1_Manual_Dimensionality.ipynb.
    """
    import numpy as np
    import pandas as pd

    if split not in _SPLIT_OFFSET:
        raise ValueError(f"split must be one of {sorted(_SPLIT_OFFSET)}, got {split!r}")
    n = whole("n_rows", n_rows)
    rng = np.random.default_rng(whole("seed", seed, 0) + _SPLIT_OFFSET[split])
    box = TAXI_BOX

    # Pick-ups: 80 % around Midtown Manhattan, 20 % anywhere in the box.
    midtown = rng.random(n) < 0.8
    pickup_lon = np.where(midtown, rng.normal(-73.980, 0.018, n), rng.uniform(box["lon_min"], box["lon_max"], n))
    pickup_lat = np.where(midtown, rng.normal(40.755, 0.025, n), rng.uniform(box["lat_min"], box["lat_max"], n))
    pickup_lon = np.clip(pickup_lon, box["lon_min"], box["lon_max"])
    pickup_lat = np.clip(pickup_lat, box["lat_min"], box["lat_max"])
    # Trips: a log-normal straight-line length (km) in a uniform direction, kept inside the box.
    length_km = np.clip(rng.lognormal(np.log(2.5), 0.7, n), 0.2, 30.0)
    angle = rng.uniform(0, 2 * np.pi, n)
    dropoff_lon = np.clip(pickup_lon + length_km * np.cos(angle) / _KM_PER_DEGREE_LON, box["lon_min"], box["lon_max"])
    dropoff_lat = np.clip(pickup_lat + length_km * np.sin(angle) / _KM_PER_DEGREE_LAT, box["lat_min"], box["lat_max"])
    straight_km = np.hypot((dropoff_lon - pickup_lon) * _KM_PER_DEGREE_LON,
                           (dropoff_lat - pickup_lat) * _KM_PER_DEGREE_LAT)

    passengers = rng.choice(np.arange(1, 7), size=n, p=[0.70, 0.14, 0.04, 0.02, 0.06, 0.04])
    hourly = np.array([3, 2, 1.5, 1, 1, 1.5, 3, 5, 6, 6, 5.5, 5.5, 6, 6, 6.5, 6.5, 6, 7, 8, 8, 7.5, 7, 6, 4.5])
    hour = rng.choice(24, size=n, p=hourly / hourly.sum())
    dayofweek = rng.integers(1, 8, size=n)  # 1 = Sunday ... 7 = Saturday, as BigQuery's EXTRACT(DAYOFWEEK)

    weekday = (dayofweek >= 2) & (dayofweek <= 6)
    surcharge = np.where((hour >= 20) | (hour < 6), 0.5, 0.0) + np.where(weekday & (hour >= 16) & (hour < 20), 1.0, 0.0)
    fare = 2.50 + 1.55 * 1.3 * straight_km + surcharge + rng.normal(0, 1.5, n)
    fare = np.round(np.maximum(fare, 2.50), 2)

    df = pd.DataFrame({
        "fare_amount": fare,
        "pickup_longitude": pickup_lon.round(6), "pickup_latitude": pickup_lat.round(6),
        "dropoff_longitude": dropoff_lon.round(6), "dropoff_latitude": dropoff_lat.round(6),
        "passenger_count": passengers.astype(int), "hourofday": hour.astype(int), "dayofweek": dayofweek.astype(int),
        "key": [f"{split}-{i:06d}" for i in range(1, n + 1)],
    })
    if len(df) != n or df.isna().any().any():
        raise DataIntegrityError(f"taxi_rides: expected {n} complete rows, generated {len(df)}")
    return df[TAXI_COLUMNS]
