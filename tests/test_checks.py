"""The assignments' self-checks: a pass on the solution, a specific verdict on typical wrong answers."""

import pytest

from helpers import checks, data, env

env.quiet()
pytestmark = pytest.mark.filterwarnings("ignore:np.find_common_type is deprecated:DeprecationWarning")
tfdv = pytest.importorskip("tensorflow_data_validation")
from tensorflow_metadata.proto.v0 import schema_pb2  # noqa: E402
from test_checks_data_validation import diabetes_lab, split  # noqa: E402  (C2_W1's data, written once)

LABEL = "readmitted"


@pytest.fixture(scope="module")
def lab():
    """The solution of C2_W1_Assignment_Data_Validation, step by step, on the generated data."""
    lab = diabetes_lab(4000, 3)
    return {**lab, "train": lab["train_df"], "eval": lab["eval_df"], "serving": lab["serving_df"]}


def fresh_schema(lab):
    return tfdv.infer_schema(statistics=lab["train_stats"])


def fixed_schema(lab):
    schema = fresh_schema(lab)
    tfdv.get_domain(schema, "glimepiride-pioglitazone").value.append("Steady")
    tfdv.get_domain(schema, "medical_specialty").value.append("Neurophysiology")
    return schema


def serving_stats(lab, schema, frame=None):
    options = tfdv.StatsOptions(schema=schema, infer_type_from_schema=True, feature_allowlist=lab["cols"])
    return tfdv.generate_statistics_from_dataframe(lab["serving"] if frame is None else frame, stats_options=options)


def anomalies(statistics, schema):
    found = tfdv.validate_statistics(statistics=statistics, schema=schema)
    print(found)
    return found


def set_domains(features_list, schema, to_domain_name):
    for feature in features_list:
        tfdv.set_domain(schema, feature, to_domain_name)
    return schema


def assert_fails(verdict, *fragments):
    assert not verdict.passed and str(verdict).startswith(f"✗ Exercise {verdict.exercise}: ")
    for fragment in fragments:
        assert fragment in str(verdict), f"{fragment!r} not in {str(verdict)!r}"


def test_verdicts_read_as_one_line_and_a_hint():
    ok, bad = checks.passed(3, "48 features"), checks.failed(4, "the schema is empty", "infer it")
    assert ok and repr(ok) == "✓ Exercise 3 passed: 48 features" and str(checks.passed(1)) == "✓ Exercise 1 passed"
    assert not bad and str(bad) == "✗ Exercise 4: the schema is empty\n  Hint: infer it"


def test_splits(lab):
    df, train, evaluation, serving = lab["df"], lab["train"], lab["eval"], lab["serving"]
    verdict = checks.check_splits(train, evaluation, serving, df, LABEL, order_by="encounter_id", exercise=1)
    assert verdict.passed
    assert str(verdict) == ("✓ Exercise 1 passed: 2,800 / 600 / 600 rows, each shuffled with a fresh index; "
                            "'readmitted' only in train and eval")
    assert_fails(checks.check_splits(train, evaluation, evaluation, df, LABEL, exercise=1),
                 "serving_df still has the label column 'readmitted'", "Hint: serving data comes from users")
    assert_fails(checks.check_splits(train, evaluation, serving.iloc[:0], df, LABEL, exercise=1),
                 "serving_df is empty (0 rows)")
    assert_fails(checks.check_splits(train, evaluation.iloc[:500], serving, df, LABEL, exercise=1),
                 "eval_df has 500 rows, expected 600")
    shuffled = split(df.sample(frac=1, random_state=0))
    assert_fails(checks.check_splits(*shuffled, df, LABEL, order_by="encounter_id", exercise=1),
                 "rows were shuffled (or mixed) before splitting")
    assert_fails(checks.check_splits(train, evaluation, serving.drop(columns=["payer_code"]), df, LABEL, exercise=1),
                 "serving_df lacks the column(s) 'payer_code'")
    assert_fails(checks.check_splits(train.values, evaluation, serving, df, LABEL, exercise=1),
                 "train_df should be a pandas DataFrame, got ndarray")


def test_statistics(lab):
    verdict = checks.check_statistics(lab["train_stats"], lab["train"], lab["cols"], exercise=2)
    assert str(verdict) == "✓ Exercise 2 passed: 48 features, 2,800 examples"
    assert_fails(checks.check_statistics(tfdv.generate_statistics_from_dataframe(lab["train"]), lab["train"],
                                         lab["cols"], exercise=2),
                 "include 'encounter_id', 'patient_nbr'", "the StatsOptions made above")
    assert_fails(checks.check_statistics(lab["eval_stats"], lab["train"], lab["cols"], exercise=2),
                 "describe 600 examples, but the split has 2,800")
    assert_fails(checks.check_statistics(lab["train"], lab["train"], lab["cols"], exercise=2),
                 "should be the statistics TFDV returns", "got DataFrame")
    assert_fails(checks.check_statistics(lab["train_stats"], lab["train"].iloc[:0], lab["cols"], exercise=2),
                 "the split is empty (0 rows)")


def test_schema(lab):
    assert checks.check_schema(fresh_schema(lab), lab["train_stats"], exercise=3).passed
    assert_fails(checks.check_schema(tfdv.infer_schema(lab["eval_stats"]), lab["train_stats"], exercise=3),
                 "differs from the one inferred from train_stats")
    assert_fails(checks.check_schema(fixed_schema(lab), lab["train_stats"], exercise=3), "do not edit it yet")
    assert_fails(checks.check_schema(schema_pb2.Schema(), lab["train_stats"], exercise=3),
                 "the schema has 0 features; the training statistics have 48")
    assert_fails(checks.check_schema(lab["train_stats"], lab["train_stats"], exercise=3),
                 "should be a TFDV Schema protocol buffer")


def test_anomalies_function(lab):
    schema = fresh_schema(lab)
    verdict = checks.check_anomalies_function(anomalies, lab["eval_stats"], schema, exercise=5)
    assert str(verdict) == ("✓ Exercise 5 passed: it finds the anomalies in 'glimepiride-pioglitazone', "
                            "'medical_specialty'")
    assert_fails(checks.check_anomalies_function(lambda s, sc: print("shown"), lab["eval_stats"], schema, exercise=5),
                 "the function returns nothing", "return the anomalies")
    wrong = lambda s, sc: tfdv.validate_statistics(lab["train_stats"], sc)  # noqa: E731
    assert_fails(checks.check_anomalies_function(wrong, lab["eval_stats"], schema, exercise=5),
                 "it reports anomalies in no feature")

    def raises(statistics, schema):
        raise NotImplementedError("Exercise 5: write it")

    assert_fails(checks.check_anomalies_function(raises, lab["eval_stats"], schema, exercise=5),
                 "your function still raises NotImplementedError (Exercise 5: write it)")

    def crashes(statistics, schema):
        return {}["missing"]

    assert_fails(checks.check_anomalies_function(crashes, lab["eval_stats"], schema, exercise=5),
                 "calling your function raised KeyError: 'missing'")
    assert_fails(checks.check_anomalies_function(None, lab["eval_stats"], schema, exercise=5),
                 "expected your function, got NoneType")


def test_eval_anomalies_fixed(lab):
    verdict = checks.check_eval_anomalies_fixed(fixed_schema(lab), lab["train_stats"], lab["eval_stats"], exercise=6)
    assert verdict.passed and "glimepiride-pioglitazone=Steady" in str(verdict)
    assert_fails(checks.check_eval_anomalies_fixed(fresh_schema(lab), lab["train_stats"], lab["eval_stats"],
                                                   exercise=6),
                 "still has anomalies in 'glimepiride-pioglitazone', 'medical_specialty'", "value list")
    relaxed = fresh_schema(lab)
    for feature in ("glimepiride-pioglitazone", "medical_specialty"):
        tfdv.get_feature(relaxed, feature).distribution_constraints.min_domain_mass = 0.5
    assert_fails(checks.check_eval_anomalies_fixed(relaxed, lab["train_stats"], lab["eval_stats"], exercise=6),
                 "passes, but not because it is in the domain")


def test_serving_statistics_and_a_feature_missing_from_serving_data(lab):
    schema = fixed_schema(lab)
    verdict = checks.check_serving_statistics(serving_stats(lab, schema), lab["serving"], lab["cols"], LABEL,
                                              exercise=7)
    assert str(verdict) == "✓ Exercise 7 passed: 47 features (no 'readmitted'), 600 examples"
    lost = lab["serving"].drop(columns=["A1Cresult"])
    assert_fails(checks.check_serving_statistics(serving_stats(lab, schema, lost), lost, lab["cols"], LABEL,
                                                 exercise=7),
                 "serving_stats lack 'A1Cresult', which the schema expects", "only the label may be missing")
    with_label = lab["eval"]
    assert_fails(checks.check_serving_statistics(serving_stats(lab, schema, with_label), with_label, lab["cols"],
                                                 LABEL, exercise=7),
                 "include the label 'readmitted'")


MEDS = [m for m in data.DIABETES_MEDICATIONS if m != "metformin"]


def test_domains_modified(lab):
    schema = set_domains(MEDS, fixed_schema(lab), "metformin")
    verdict = checks.check_domains_modified(set_domains, schema, MEDS, "metformin", exercise=8)
    assert str(verdict) == ("✓ Exercise 8 passed: 22 features now share the 'metformin' domain "
                            "['Down', 'No', 'Steady', 'Up']")
    assert_fails(checks.check_domains_modified(set_domains, fixed_schema(lab), MEDS, "metformin", exercise=8),
                 "do not use the 'metformin' domain", "to the name 'metformin'")

    def first_only(features_list, schema, to_domain_name):
        tfdv.set_domain(schema, features_list[0], to_domain_name)
        return schema

    def no_return(features_list, schema, to_domain_name):
        set_domains(features_list, schema, to_domain_name)

    assert_fails(checks.check_domains_modified(first_only, schema, MEDS, "metformin", exercise=8),
                 "does not set the domain of every feature")
    assert_fails(checks.check_domains_modified(no_return, schema, MEDS, "metformin", exercise=8),
                 "returns a NoneType", "return the schema")


def environment_schema(lab):
    schema = set_domains(MEDS, fixed_schema(lab), "metformin")
    for feature in ("payer_code", "medical_specialty"):
        tfdv.get_feature(schema, feature).distribution_constraints.min_domain_mass = 0.9
    schema.default_environment.extend(["TRAINING", "SERVING"])
    return schema


def test_environments(lab):
    schema = environment_schema(lab)
    stats = serving_stats(lab, schema)
    tfdv.get_feature(schema, LABEL).not_in_environment.append("SERVING")
    found = tfdv.validate_statistics(stats, schema, environment="SERVING")
    assert checks.check_environments(schema, found, LABEL, exercise=9).passed
    assert_fails(checks.check_environments(schema, tfdv.validate_statistics(stats, schema), LABEL, exercise=9),
                 "still finds anomalies in 'readmitted'", "which environment")
    assert_fails(checks.check_environments(environment_schema(lab), found, LABEL, exercise=9),
                 "'readmitted' is still expected in the SERVING environment")
    assert_fails(checks.check_environments(fixed_schema(lab), found, LABEL, exercise=9),
                 "default environments are [], expected TRAINING and SERVING")
    assert_fails(checks.check_environments(schema, None, LABEL, exercise=9), "got NoneType")
    assert_fails(checks.check_environments(schema, None, LABEL, variable="serving_anomalies", exercise=3),
                 "serving_anomalies should be the Anomalies that tfdv.validate_statistics returns, got NoneType")


def test_skew_and_drift(lab):
    schema = environment_schema(lab)
    stats = serving_stats(lab, schema)
    tfdv.get_feature(schema, "diabetesMed").skew_comparator.infinity_norm.threshold = 0.03
    tfdv.get_feature(schema, "payer_code").drift_comparator.infinity_norm.threshold = 0.03
    found = tfdv.validate_statistics(lab["train_stats"], schema, previous_statistics=lab["eval_stats"],
                                     serving_statistics=stats)
    assert checks.check_skew_and_drift(schema, found, "diabetesMed", "payer_code", exercise=10).passed
    no_serving = tfdv.validate_statistics(lab["train_stats"], schema, previous_statistics=lab["eval_stats"])
    assert_fails(checks.check_skew_and_drift(schema, no_serving, "diabetesMed", "payer_code", exercise=10),
                 "no skew was measured for 'diabetesMed'", "with the serving statistics")
    tfdv.get_feature(schema, "payer_code").drift_comparator.infinity_norm.threshold = 0.3
    assert_fails(checks.check_skew_and_drift(schema, found, "diabetesMed", "payer_code", exercise=10),
                 "the drift threshold of 'payer_code' is 0.3, expected 0.03")


def test_frozen_schema_including_a_file_that_does_not_parse(lab, tmp_path):
    schema = environment_schema(lab)
    path = tmp_path / "schema.pbtxt"
    assert_fails(checks.check_frozen_schema(path, schema, exercise=11), "there is no file 'schema.pbtxt'")
    tfdv.write_schema_text(schema, str(path))
    verdict = checks.check_frozen_schema(path, schema, exercise=11)
    assert str(verdict) == ("✓ Exercise 11 passed: schema.pbtxt holds 48 features and environments "
                            "['TRAINING', 'SERVING']")
    assert str(tmp_path) not in str(verdict)  # no machine path in a stored output
    tfdv.get_feature(schema, "age").not_in_environment.append("SERVING")
    assert_fails(checks.check_frozen_schema(path, schema, exercise=11), "differs from the schema in memory")
    path.write_text("feature {\n  name: 'age'\n  this is not a schema\n")
    assert_fails(checks.check_frozen_schema(path, schema, exercise=11), "'schema.pbtxt' is not a schema in text format",
                 "str() or pickle do not")
    path.write_bytes(b"\x80\x81 binary")
    assert_fails(checks.check_frozen_schema(path, schema, exercise=11), "is not a schema in text format")
