import pandas as pd
import pytest

from helpers import data


def test_registry_lists_and_loads_by_name():
    assert "adult" in data.available()
    assert data.load("adult").equals(data.load_adult())


def test_unknown_dataset_names_the_known_ones_and_a_close_match():
    with pytest.raises(data.UnknownDatasetError) as info:
        data.load("adullt")
    message = str(info.value)
    assert "'adullt'" in message and "Did you mean 'adult'?" in message and "Known datasets:" in message


def test_register_refuses_a_second_loader_under_one_name():
    with pytest.raises(ValueError, match="already registered"):
        data.register("adult")(lambda: None)


def test_adult_is_the_real_uci_data():
    train, test = data.load_adult("train"), data.load_adult("test")
    assert train.shape == (32561, 15) and test.shape == (16281, 15)
    assert list(train.columns) == data.ADULT_COLUMNS
    assert set(train["label"]) == set(test["label"]) == {"<=50K", ">50K"}
    assert train["age"].between(17, 90).all()
    assert (train["workclass"] == "?").sum() == 1836  # missing values are kept as '?', as in the lab
    assert train.iloc[0].tolist()[:4] == [39, "State-gov", 77516, "Bachelors"]


def test_adult_rejects_an_unknown_split():
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_adult("validation")


def test_adult_detects_a_changed_file(monkeypatch):
    monkeypatch.setitem(data.census._ADULT_FILES, "train", ("adult.data.gz", "0" * 64, 32561))
    with pytest.raises(data.DataIntegrityError, match="sha256 differs"):
        data.load_adult()


def test_plant_malformed_rows_appends_four_defects():
    df = data.load_adult().head(100)
    planted = data.plant_malformed_rows(df)
    assert len(planted) == 104 and planted.head(100).equals(df)
    tail = planted.tail(4)
    assert set(tail["age"]) == {46, 0, 1000000, 25}
    assert {"NULL", "gamer", "Asian", "Mongolia"} <= set(tail.astype(str).values.ravel())


def test_plant_malformed_rows_needs_the_adult_columns():
    message = r"needs the column\(s\) \['workclass'\], which the DataFrame lacks"
    with pytest.raises(data.MissingColumnsError, match=message):
        data.plant_malformed_rows(pd.DataFrame({"age": [1], "label": ["x"]}).reindex(
            columns=[c for c in data.ADULT_COLUMNS if c != "workclass"], fill_value=0))


def test_plant_malformed_rows_rejects_an_empty_frame():
    with pytest.raises(ValueError, match="empty DataFrame"):
        data.plant_malformed_rows(pd.DataFrame(columns=data.ADULT_COLUMNS))


def test_require_columns_rejects_non_frames():
    with pytest.raises(TypeError, match="needs a pandas DataFrame, got list"):
        data.require_columns([1, 2], ["a"])


def test_split_frame_keeps_order_and_sizes():
    df = pd.DataFrame({"x": range(10)})
    train, evaluation = data.split_frame(df, 0.2)
    assert train["x"].tolist() == list(range(8)) and evaluation["x"].tolist() == [8, 9]


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5])
def test_split_frame_rejects_bad_fractions(fraction):
    with pytest.raises(ValueError, match="eval_fraction"):
        data.split_frame(pd.DataFrame({"x": range(10)}), fraction)


def test_split_frame_rejects_too_few_rows_and_empty_frames():
    with pytest.raises(ValueError, match="cannot be split"):
        data.split_frame(pd.DataFrame({"x": [1]}), 0.2)
    with pytest.raises(ValueError, match="empty DataFrame"):
        data.split_frame(pd.DataFrame({"x": []}), 0.2)
