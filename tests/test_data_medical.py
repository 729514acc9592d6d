"""The generated Diabetes 130-US stand-in: columns, domains, determinism and the planted defects."""

import hashlib
import time

import pytest

from helpers import data

DEFAULT_SHA256 = "fa2c4d262a4aa77403a574817d2f20435b113428a5f940c0605146e0240b1dd5"


@pytest.fixture(scope="module")
def df():
    return data.load_diabetes()


def test_registered_and_the_same_through_load(df):
    assert "diabetes" in data.available()
    assert data.load("diabetes").equals(df)


def test_fifty_columns_in_the_real_files_order(df):
    assert df.shape == (10_000, 50)
    assert list(df.columns) == data.DIABETES_COLUMNS
    assert df.columns[0] == "encounter_id" and df.columns[-1] == "readmitted"
    assert len(data.DIABETES_MEDICATIONS) == 23 and df.columns[24] == "metformin"


def test_domains_look_like_the_real_file(df):
    assert set(df["age"]) == {f"[{a}-{a + 10})" for a in range(0, 100, 10)}
    assert set(df["readmitted"]) == {"NO", ">30", "<30"}
    shares = df["readmitted"].value_counts(normalize=True)
    assert 0.48 < shares["NO"] < 0.60 and 0.30 < shares[">30"] < 0.40 and 0.08 < shares["<30"] < 0.15
    for drug in data.DIABETES_MEDICATIONS:
        assert set(df[drug]) <= {"No", "Steady", "Up", "Down"}
    assert set(df["change"]) == {"Ch", "No"} and set(df["diabetesMed"]) == {"Yes", "No"}
    assert (df["diabetesMed"] == "Yes").equals((df[data.DIABETES_MEDICATIONS] != "No").any(axis=1))
    assert df["time_in_hospital"].between(1, 14).all()
    assert {"428", "250.83", "V57"} <= set(df[["diag_1", "diag_2", "diag_3"]].values.ravel())
    assert df["encounter_id"].is_monotonic_increasing and df["encounter_id"].is_unique


def test_question_mark_is_the_missing_marker(df):
    missing = (df == "?").mean()
    assert missing["weight"] > 0.9 and 0.3 < missing["payer_code"] < 0.5
    assert 0.4 < missing["medical_specialty"] < 0.6 and missing["race"] > 0.01 and missing["diag_3"] > 0.005
    assert not df.isna().any().any()


def test_defects_are_planted_in_the_late_rows_only(df):
    n = len(df)
    train, evaluation, serving = df.iloc[:int(n * .7)], df.iloc[int(n * .7):int(n * .85)], df.iloc[int(n * .85):]
    for column, value, _ in data.DIABETES_DEFECTS["eval"]:
        assert value not in set(train[column]) and value in set(evaluation[column])
    for column, value, _ in data.DIABETES_DEFECTS["serving"]:
        assert value not in set(train[column]) and value in set(serving[column])
    for column in ("race", "gender", "age", "weight", "payer_code", "medical_specialty", "max_glu_serum",
                   "A1Cresult", *data.DIABETES_MEDICATIONS):
        planted = {v for _, v, _ in data.DIABETES_DEFECTS["eval"] + data.DIABETES_DEFECTS["serving"]}
        unseen = set(df.iloc[int(n * .7):][column]) - set(train[column]) - planted
        assert not unseen, f"{column}: values outside training that were not planted: {unseen}"


def test_skew_and_drift_are_planted(df):
    n = len(df)
    yes = (df["diabetesMed"] == "Yes").to_numpy()
    assert yes[int(n * .85):].mean() - yes[:int(n * .7)].mean() > 0.03
    recorded = df[df["payer_code"] != "?"]
    late = recorded.index >= int(n * .7)
    assert (recorded["payer_code"][late] == "MC").mean() - (recorded["payer_code"][~late] == "MC").mean() > 0.03


def test_seeded_and_fast():
    start = time.perf_counter()
    a, b = data.load_diabetes(n_rows=3000, seed=7), data.load_diabetes(n_rows=3000, seed=7)
    assert time.perf_counter() - start < 10
    assert a.equals(b) and len(a) == 3000
    assert not a.equals(data.load_diabetes(n_rows=3000, seed=8))
    assert data.load_diabetes(n_rows=1000).shape == (1000, 50)


@pytest.mark.parametrize("n_rows", [0, 999, 2.5, "10000", True, None])
def test_bad_row_counts_are_refused(n_rows):
    with pytest.raises(ValueError, match=r"n_rows must be an int of at least 1000 \(every split needs a few .*, got"):
        data.load_diabetes(n_rows=n_rows)


@pytest.mark.parametrize("seed", [-1, 1.0, "0", False])
def test_bad_seeds_are_refused(seed):
    with pytest.raises(ValueError, match="seed must be an int of at least 0, got"):
        data.load_diabetes(seed=seed)


def test_the_default_frame_is_the_same_on_every_stack(df):
    """Pinned: the same bytes with numpy 1 / pandas 1 (the lock) and numpy 2 / pandas 2 (the Colab profile)."""
    digest = hashlib.sha256(df.to_csv(index=False).encode()).hexdigest()
    assert digest == DEFAULT_SHA256, "the generator's output changed: notebooks that use it need a refresh"
