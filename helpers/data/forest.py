"""Generated forest cover data with the columns of the UCI Covertype variant the course's pipeline reads.

There is no offline copy of Covertype (``sklearn.datasets.fetch_covtype`` downloads it, and the course's
variant comes from a cloud bucket), so this seeded generator mimics its columns and domains.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpers.arguments import whole

from .registry import DataIntegrityError, register

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COVERTYPE_NUMERIC", "COVERTYPE_COLUMNS", "WILDERNESS_AREAS", "SOIL_TYPES", "load_covertype"]

COVERTYPE_NUMERIC = [
    "Elevation", "Aspect", "Slope", "Horizontal_Distance_To_Hydrology", "Vertical_Distance_To_Hydrology",
    "Horizontal_Distance_To_Roadways", "Hillshade_9am", "Hillshade_Noon", "Hillshade_3pm",
    "Horizontal_Distance_To_Fire_Points",
]
COVERTYPE_COLUMNS = [*COVERTYPE_NUMERIC, "Wilderness_Area", "Soil_Type", "Cover_Type"]
WILDERNESS_AREAS = ["Cache", "Commanche", "Neota", "Rawah"]
# The 40 ELU soil codes of the US Forest Service survey, as the course's CSV writes them.
SOIL_TYPES = [f"C{code}" for code in (
    2702, 2703, 2704, 2705, 2706, 2717, 3501, 3502, 4201, 4703, 4704, 4744, 4758, 5101, 5151, 6101, 6102,
    6731, 7101, 7102, 7103, 7201, 7202, 7700, 7701, 7702, 7709, 7710, 7745, 7746, 7755, 7756, 7757, 7790,
    8703, 8707, 8708, 8771, 8772, 8776)]
# Cover types 0-6 (Spruce/Fir, Lodgepole Pine, Ponderosa Pine, Cottonwood/Willow, Aspen, Douglas-fir,
# Krummholz): their share of the real data and the elevation band (mean, sd in metres) each grows in.
_SHARES = [0.365, 0.488, 0.062, 0.005, 0.016, 0.030, 0.034]
_ELEVATION = [(3130, 150), (2920, 190), (2390, 170), (2200, 90), (2790, 100), (2420, 150), (3360, 100)]


@register("covertype")
def load_covertype(n_rows: int = 3000, seed: int = 42) -> "pd.DataFrame":
    """Generated Covertype-like rows: 10 terrain measures, wilderness area, soil type and the cover type.

    Provenance: **generated** (seeded NumPy), not real plots. It mimics the columns and value ranges of the
    UCI Covertype data (Blackard, 1998; 30 x 30 m cells of the Roosevelt National Forest, Colorado) in the
    variant the course reads: ``Wilderness_Area`` one of 4 names and ``Soil_Type`` one of 40 ELU codes as
    strings, ``Cover_Type`` 0-6 with the real data's imbalance (about 36/49/6/0.5/1.6/3/3.4 %). The cover
    type is drawn first and drives the elevation (each species grows in its own band), and through it the
    distances to roads and fire points; aspect sets the three hillshades. No licence applies (synthetic).

    Args:
        n_rows: how many rows (at least 1).
        seed: the random seed; the same ``(n_rows, seed)`` always gives the same rows.

    Returns:
        A DataFrame of ``COVERTYPE_COLUMNS``: integer numerics, strings, and ``Cover_Type`` as int.

    Introduced in course2_data/solutions/C2_W3_Assignment_Data_Pipeline.ipynb.
    """
    import numpy as np
    import pandas as pd

    n = whole("n_rows", n_rows)
    rng = np.random.default_rng(whole("seed", seed, 0))

    cover = rng.choice(7, size=n, p=_SHARES)
    mean, sd = np.array(_ELEVATION).T
    elevation = np.clip(rng.normal(mean[cover], sd[cover]), 1859, 3858)
    high = (elevation - 1859) / 2000  # 0 at the lowest cell, 1 at the highest
    aspect = rng.uniform(0, 360, n)
    slope = np.clip(rng.gamma(3.0, 4.7, n), 0, 66)
    h_hydro = np.clip(rng.exponential(270, n), 0, 1397)
    v_hydro = np.clip(0.2 * h_hydro + rng.normal(0, 45, n), -173, 601)
    roads = np.clip(rng.gamma(2.0, 600 + 1500 * high), 0, 7117)
    fire = np.clip(rng.gamma(2.0, 500 + 1200 * high), 0, 7173)
    north = np.cos(np.radians(aspect))  # 1 facing north, -1 south
    sideways = np.sin(np.radians(aspect))  # 1 facing east, -1 west
    shade_9am = np.clip(212 + 25 * sideways - 0.8 * slope + rng.normal(0, 8, n), 0, 254)
    shade_noon = np.clip(223 - 12 * north - 0.6 * slope + rng.normal(0, 8, n), 0, 254)
    shade_3pm = np.clip(142 - 40 * sideways + rng.normal(0, 15, n), 0, 254)

    area_probs = np.array([[0.05, 0.05, 0.40, 0.50], [0.05, 0.02, 0.40, 0.53], [0.35, 0.02, 0.60, 0.03],
                           [0.60, 0.01, 0.38, 0.01], [0.05, 0.05, 0.30, 0.60], [0.35, 0.02, 0.60, 0.03],
                           [0.05, 0.30, 0.55, 0.10]])
    area = np.array([rng.choice(4, p=area_probs[c]) for c in cover])
    # Soil: a common code per band of the 40 plus a uniform background, so every code is reasonably frequent.
    soil = np.where(rng.random(n) < 0.5, (cover * 6 + rng.integers(0, 6, n)) % 40, rng.integers(0, 40, n))

    df = pd.DataFrame({
        "Elevation": elevation, "Aspect": aspect, "Slope": slope, "Horizontal_Distance_To_Hydrology": h_hydro,
        "Vertical_Distance_To_Hydrology": v_hydro, "Horizontal_Distance_To_Roadways": roads,
        "Hillshade_9am": shade_9am, "Hillshade_Noon": shade_noon, "Hillshade_3pm": shade_3pm,
        "Horizontal_Distance_To_Fire_Points": fire,
    }).round().astype("int64")
    df["Wilderness_Area"] = np.array(WILDERNESS_AREAS)[area]
    df["Soil_Type"] = np.array(SOIL_TYPES)[soil]
    df["Cover_Type"] = cover.astype("int64")
    if len(df) != n or df.isna().any().any() or list(df.columns) != COVERTYPE_COLUMNS:
        raise DataIntegrityError(f"covertype: expected {n} complete rows of {COVERTYPE_COLUMNS}, got {df.shape}")
    return df
