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


def test_plant_malformed_rows_appends_the_original_four_rows():
    df = data.load_adult().head(100)
    planted = data.plant_malformed_rows(df)
    assert len(planted) == 104 and planted.head(100).equals(df) and len(df) == 100  # input untouched
    tail = planted.tail(4)
    assert tail["age"].tolist() == [46, 0, 1000, 25]
    assert tail["workclass"].isna().tolist() == [True, False, False, False]  # a real missing value
    assert tail["workclass"].tolist()[1:] == ["Private", "Private", "?"]
    assert tail["occupation"].tolist() == ["Plumber", "Adm-clerical", "Prof-specialty", "gamer"]
    assert tail["race"].tolist() == ["Other", "Asian", "Black", "Asian"]
    assert tail["native-country"].tolist() == ["Australia", "Pakistan", "Cameroon", "Mongolia"]
    assert (tail["education-num"] == 8).all() and planted["age"].dtype.kind == "i"
    # the original's step "keep ages 17 to 90, drop missing values" leaves only the fourth row
    kept = tail[tail["age"].between(17, 90)].dropna()
    assert kept["occupation"].tolist() == ["gamer"]


def test_planted_values_outside_the_census_codes():
    attributes = data.adult_attributes()
    assert "Asian" not in attributes.loc["race", "values"]
    assert "Asian-Pac-Islander" in attributes.loc["race", "values"]
    assert not {"Plumber", "gamer"} & set(attributes.loc["occupation", "values"])


def test_adult_attributes_lists_every_column_from_adult_names():
    attributes = data.adult_attributes()
    assert list(attributes.index) == data.ADULT_COLUMNS
    continuous = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
    assert sorted(attributes.index[attributes["kind"] == "continuous"]) == sorted(continuous)
    assert attributes.loc["sex", "values"] == ["Female", "Male"]
    assert attributes.loc["label", "values"] == [">50K", "<=50K"]
    assert len(attributes.loc["native-country", "values"]) == 41
    train = data.load_adult()
    for column in ["workclass", "occupation", "race", "native-country"]:  # the data adds only "?"
        assert set(train[column]) - set(attributes.loc[column, "values"]) <= {"?"}


def test_adult_attributes_detects_a_changed_file(monkeypatch):
    monkeypatch.setattr(data.census, "_NAMES_SHA256", "0" * 64)
    with pytest.raises(data.DataIntegrityError, match="adult.names is not the expected copy"):
        data.adult_attributes()


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
    assert [len(p) for p in data.split_frame(df, 0.3)] == [7, 3]  # not 6/4 from 0.3 * 10 = 3.0000000000000004


def test_split_frame_matches_the_original_train_test_split():
    train, evaluation = data.split_frame(data.load_adult(), 0.2)
    assert (len(train), len(evaluation)) == (26048, 6513)  # train_test_split(test_size=0.2, shuffle=False)
    assert evaluation.index[0] == 0 and train.index[-1] == 26047


def test_split_frame_rejects_a_fraction_that_is_not_a_number():
    with pytest.raises(TypeError, match="eval_fraction must be a number"):
        data.split_frame(pd.DataFrame({"x": range(10)}), "0.2")


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5])
def test_split_frame_rejects_bad_fractions(fraction):
    with pytest.raises(ValueError, match="eval_fraction"):
        data.split_frame(pd.DataFrame({"x": range(10)}), fraction)


def test_split_frame_rejects_too_few_rows_and_empty_frames():
    with pytest.raises(ValueError, match="cannot be split"):
        data.split_frame(pd.DataFrame({"x": [1]}), 0.2)
    with pytest.raises(ValueError, match="empty DataFrame"):
        data.split_frame(pd.DataFrame({"x": []}), 0.2)
