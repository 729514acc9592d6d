import numpy as np
import pytest

from helpers import data
from helpers.data import tabular


def test_breast_cancer_is_registered_and_has_the_kaggle_columns():
    assert "breast_cancer" in data.available()
    df = data.load("breast_cancer")
    assert df.shape == (569, 33)
    assert list(df.columns) == ["id", "diagnosis", *data.BREAST_CANCER_FEATURES, "Unnamed: 32"]
    assert df.columns[2:5].tolist() == ["radius_mean", "texture_mean", "perimeter_mean"]
    assert "concave points_worst" in df.columns and "fractal_dimension_se" in df.columns
    assert df["Unnamed: 32"].isna().all()


def test_breast_cancer_rows_are_the_real_data_in_file_order():
    df = data.load_breast_cancer()
    assert df["diagnosis"].value_counts().to_dict() == {"B": 357, "M": 212}
    first = df.iloc[0]
    assert first["id"] == 1 and first["diagnosis"] == "M"
    assert (first["radius_mean"], first["texture_mean"], first["area_worst"]) == (17.99, 10.38, 2019.0)
    assert df["id"].is_unique and df[data.BREAST_CANCER_FEATURES].notna().all().all()


def test_breast_cancer_without_the_empty_column():
    assert "Unnamed: 32" not in data.load_breast_cancer(kaggle_layout=False).columns


def test_breast_cancer_rejects_a_non_bool_layout():
    with pytest.raises(TypeError, match="kaggle_layout must be True or False, got 'yes'"):
        data.load_breast_cancer(kaggle_layout="yes")


def test_breast_cancer_detects_a_changed_copy(monkeypatch):
    from sklearn import datasets

    real = datasets.load_breast_cancer

    def truncated():
        bunch = real()
        bunch.data, bunch.target = bunch.data[:500], bunch.target[:500]
        return bunch

    monkeypatch.setattr(datasets, "load_breast_cancer", truncated)
    with pytest.raises(data.DataIntegrityError, match=r"expected 569 rows x 30 features .* reinstall scikit-learn"):
        data.load_breast_cancer()


def test_breast_cancer_detects_unexpected_feature_names():
    with pytest.raises(data.DataIntegrityError, match="unexpected breast cancer feature name 'tumour size'"):
        tabular._kaggle_name("tumour size")


def test_kaggle_names_of_each_statistic():
    assert tabular._kaggle_name("mean concave points") == "concave points_mean"
    assert tabular._kaggle_name("fractal dimension error") == "fractal_dimension_se"
    assert tabular._kaggle_name("worst radius") == "radius_worst"
    assert np.array_equal(data.load_breast_cancer()["radius_mean"].to_numpy()[:2], [17.99, 20.57])
