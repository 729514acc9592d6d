"""Small tabular data sets that ship inside scikit-learn, laid out as the labs' original files."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .registry import DataIntegrityError, register

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BREAST_CANCER_FEATURES", "load_breast_cancer"]

_MEASURES = ["radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity",
             "concave points", "symmetry", "fractal_dimension"]
# The Kaggle CSV's 30 feature columns, in its order: ten measures as mean, standard error, worst.
BREAST_CANCER_FEATURES = [f"{m}_{stat}" for stat in ("mean", "se", "worst") for m in _MEASURES]
_ROWS, _MALIGNANT = 569, 212


def _kaggle_name(sklearn_name: str) -> str:
    """'mean concave points' -> 'concave points_mean', 'radius error' -> 'radius_se', 'worst area' -> ..."""
    name = sklearn_name.replace("fractal dimension", "fractal_dimension")
    for pattern, stat in ((r"^mean (.+)$", "mean"), (r"^(.+) error$", "se"), (r"^worst (.+)$", "worst")):
        match = re.match(pattern, name)
        if match:
            return f"{match.group(1)}_{stat}"
    raise DataIntegrityError(f"unexpected breast cancer feature name {sklearn_name!r} in scikit-learn's copy")


@register("breast_cancer")
def load_breast_cancer(kaggle_layout: bool = True) -> "pd.DataFrame":
    """The Breast Cancer Wisconsin (Diagnostic) data, with the columns of the Kaggle CSV the original lab reads.

    Provenance: UCI Machine Learning Repository, "Breast Cancer Wisconsin (Diagnostic)" (Wolberg, Street and
    Mangasarian, 1995): 569 fine-needle aspirates of breast masses, 30 features computed from a digitized
    image of each (ten cell-nucleus measures, each as mean, standard error and worst value), diagnosis
    malignant or benign. Licence CC BY 4.0. The copy read is the one that ships inside scikit-learn
    (``sklearn.datasets.load_breast_cancer``, BSD-3 package), in the file's original row order; its shape and
    class counts (212 malignant, 357 benign) are checked on every load.

    The columns are renamed as in the Kaggle CSV (``radius_mean`` ... ``fractal_dimension_worst``) and
    ``diagnosis`` holds ``M``/``B``. scikit-learn's copy has no patient ids, so ``id`` is the row number
    (1-569); the Kaggle file's ids are patient numbers, and the lab drops them anyway.

    Args:
        kaggle_layout: also add the empty ``Unnamed: 32`` column (pandas' name for the trailing comma of
            every line of the Kaggle CSV), so the lab's cleaning step has what it removes.

    Introduced in course2_data/C2_W2_Lab_3_Feature_Selection.ipynb.
    """
    import numpy as np
    import pandas as pd
    from sklearn import datasets

    if not isinstance(kaggle_layout, bool):
        raise TypeError(f"kaggle_layout must be True or False, got {kaggle_layout!r}")
    bunch = datasets.load_breast_cancer()
    features = pd.DataFrame(bunch.data, columns=[_kaggle_name(n) for n in bunch.feature_names])
    if list(features.columns) != BREAST_CANCER_FEATURES:
        raise DataIntegrityError("scikit-learn's breast cancer features are not in the expected order; "
                                 f"got {list(features.columns)[:3]} ...")
    malignant = int((bunch.target == 0).sum())  # scikit-learn codes malignant as 0, benign as 1
    if features.shape != (_ROWS, 30) or malignant != _MALIGNANT:
        raise DataIntegrityError(
            f"expected {_ROWS} rows x 30 features with {_MALIGNANT} malignant, got {features.shape} with "
            f"{malignant}; reinstall scikit-learn (pip install --force-reinstall scikit-learn)")
    diagnosis = pd.Series(np.where(bunch.target == 0, "M", "B"), name="diagnosis")
    frame = pd.concat([pd.Series(np.arange(1, _ROWS + 1), name="id"), diagnosis, features], axis=1)
    if kaggle_layout:
        frame["Unnamed: 32"] = np.nan
    return frame
