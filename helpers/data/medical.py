"""Medical data: a seeded generator shaped like the UCI "Diabetes 130-US hospitals" encounters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from helpers.arguments import whole

from .registry import DataIntegrityError, register

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DIABETES_COLUMNS", "DIABETES_DEFECTS", "DIABETES_MEDICATIONS", "load_diabetes"]

DIABETES_MEDICATIONS = [
    "metformin", "repaglinide", "nateglinide", "chlorpropamide", "glimepiride", "acetohexamide", "glipizide",
    "glyburide", "tolbutamide", "pioglitazone", "rosiglitazone", "acarbose", "miglitol", "troglitazone",
    "tolazamide", "examide", "citoglipton", "insulin", "glyburide-metformin", "glipizide-metformin",
    "glimepiride-pioglitazone", "metformin-rosiglitazone", "metformin-pioglitazone",
]
DIABETES_COLUMNS = [
    "encounter_id", "patient_nbr", "race", "gender", "age", "weight", "admission_type_id",
    "discharge_disposition_id", "admission_source_id", "time_in_hospital", "payer_code", "medical_specialty",
    "num_lab_procedures", "num_procedures", "num_medications", "number_outpatient", "number_emergency",
    "number_inpatient", "diag_1", "diag_2", "diag_3", "number_diagnoses", "max_glu_serum", "A1Cresult",
    *DIABETES_MEDICATIONS, "change", "diabetesMed", "readmitted",
]

# What the generator plants, and where: the rows are in time order (encounter_id grows), and the changes
# arrive late, in the rows that a 70/15/15 split in file order makes the evaluation (70-85 %) and serving
# (85-100 %) parts. Values: (column, value, rows planted per 10,000 rows, at least 2).
DIABETES_DEFECTS = {
    "eval": [("glimepiride-pioglitazone", "Steady", 2), ("medical_specialty", "Neurophysiology", 3)],
    "serving": [("payer_code", "FR", 3), ("medical_specialty", "Dermatology", 3),
                ("metformin-rosiglitazone", "Steady", 2), ("metformin-pioglitazone", "Steady", 2)],
}
_EVAL_START, _SERVING_START = 0.70, 0.85

# Categorical domains with shares close to the real file's; '?' is the file's missing-value marker.
# Every value kept here has a share of at least 0.2 %, so a training split of a few thousand rows sees it.
_RACE = {"Caucasian": .748, "AfricanAmerican": .189, "?": .022, "Hispanic": .020, "Other": .015, "Asian": .006}
_GENDER = {"Female": .538, "Male": .462}
_AGE = {"[0-10)": .002, "[10-20)": .007, "[20-30)": .016, "[30-40)": .037, "[40-50)": .095,
        "[50-60)": .170, "[60-70)": .221, "[70-80)": .256, "[80-90)": .169, "[90-100)": .027}
_WEIGHT = {"?": .965, "[75-100)": .013, "[50-75)": .009, "[100-125)": .006, "[125-150)": .003,
           "[25-50)": .002, "[0-25)": .002}
_PAYER = {"?": .396, "MC": .320, "HM": .062, "SP": .049, "BC": .046, "MD": .035, "CP": .025, "UN": .024,
          "CM": .019, "OG": .010, "PO": .006, "DM": .005, "CH": .002, "WC": .002}
_SPECIALTY = {
    "?": .491, "InternalMedicine": .144, "Emergency/Trauma": .074, "Family/GeneralPractice": .073,
    "Cardiology": .053, "Surgery-General": .030, "Nephrology": .016, "Orthopedics": .014,
    "Orthopedics-Reconstructive": .012, "Radiologist": .011, "Pulmonology": .009, "Psychiatry": .008,
    "Urology": .007, "ObstetricsandGynecology": .007, "Surgery-Cardiovascular/Thoracic": .006,
    "Gastroenterology": .006, "Surgery-Vascular": .005, "Surgery-Neuro": .005,
    "PhysicalMedicineandRehabilitation": .004, "Oncology": .003, "Pediatrics": .003, "Neurology": .002,
}
_MAX_GLU = {"None": .947, "Norm": .026, ">200": .015, ">300": .012}
_A1C = {"None": .833, ">8": .081, "Norm": .049, ">7": .037}
# medication: shares of (Steady, Up, Down); the rest is "No"
_DRUGS = {
    "metformin": (.180, .011, .006), "repaglinide": (.014, .002, 0), "nateglinide": (.007, 0, 0),
    "chlorpropamide": (.003, 0, 0), "glimepiride": (.046, .003, .002), "glipizide": (.111, .008, .006),
    "glyburide": (.091, .008, .006), "tolbutamide": (.002, 0, 0), "pioglitazone": (.068, .002, 0),
    "rosiglitazone": (.060, .002, 0), "acarbose": (.003, 0, 0), "insulin": (.303, .111, .120),
    "glyburide-metformin": (.007, 0, 0), "glipizide-metformin": (.002, 0, 0),
}
_READMITTED = ("NO", ">30", "<30")


def _choice(rng, shares: dict, size: int):
    import numpy as np

    p = np.array(list(shares.values()), dtype=float)
    return rng.choice(np.array(list(shares), dtype=object), size=size, p=p / p.sum())


def _icd9_codes(rng, count: int = 300) -> list[str]:
    """A pool of ICD-9 diagnosis codes written as in the file ('428', '250.83', 'V57'), most frequent first."""
    common = ["428", "414", "786", "410", "486", "427", "491", "715", "682", "434", "780", "996", "276", "599",
              "584", "V57", "38", "820", "403", "250.8", "401", "496", "250", "577", "435", "562", "574", "185"]
    others = [str(n) for n in rng.permutation(range(1, 1000)) if str(n) not in common]
    codes = common + others[:count - 60 - len(common)]
    codes += [f"250.{d}" for d in ("01", "02", "03", "1", "11", "12", "13", "2", "22", "23", "3", "4", "41",
                                     "42", "43", "5", "51", "52", "6", "7", "8", "81", "82", "83", "9", "91",
                                     "92", "93")]
    codes += [f"V{n}" for n in rng.choice(range(10, 90), size=32, replace=False) if f"V{n}" not in common]
    return list(dict.fromkeys(codes))


def _defect_count(per_10k: int, rows: int) -> int:
    return max(2, round(per_10k * rows / 10_000))


@register("diabetes")
def load_diabetes(n_rows: int = 10_000, seed: int = 0) -> "pd.DataFrame":
    """Hospital encounters of diabetic patients shaped like UCI "Diabetes 130-US hospitals 1999-2008".

    Provenance: **generated** by this function (seeded, deterministic), not real patients. The graded
    data-validation assignment reads the real file (101,766 encounters x 50 columns, UCI, CC BY 4.0),
    which no installable package ships and which is too large to vendor here, so this generator mimics
    what the assignment needs from it: the same 50 columns in the same order, the same categorical domains
    with similar shares (age bands, payer codes, medical specialties, ICD-9 diagnosis strings, 23
    medications with No/Steady/Up/Down), ``?`` as the missing-value marker (race, weight, payer_code,
    medical_specialty, diag_3), and the label ``readmitted`` (NO / >30 / <30, about 54/35/11 %).

    Rows are in time order, and the late rows carry planted changes (``DIABETES_DEFECTS``) so that a
    70/15/15 split in file order shows what the assignment teaches: values never seen in training in the
    evaluation part (``glimepiride-pioglitazone`` = Steady, ``medical_specialty`` = Neurophysiology) and
    in the serving part (``payer_code`` = FR, ``medical_specialty`` = Dermatology, Steady for
    ``metformin-rosiglitazone`` and ``metformin-pioglitazone``); ``payer_code`` drifting towards MC after
    the training period; and more patients on diabetes medication (``diabetesMed`` = Yes) when serving
    than in training (skew).

    Args:
        n_rows: number of encounters, at least 1,000 (the real file has 101,766).
        seed: the random seed; the same ``(n_rows, seed)`` always gives the same frame.

    Returns:
        A DataFrame of ``DIABETES_COLUMNS``; missing values are the string ``?``, as in the real file.

    Introduced in course2_data/C2_W1_Assignment_Data_Validation.ipynb.
    """
    import numpy as np
    import pandas as pd

    n = whole("n_rows", n_rows, 1000, advice="every split needs a few hundred")
    rng = np.random.default_rng(whole("seed", seed, 0))
    eval_at, serving_at = int(n * _EVAL_START), int(n * _SERVING_START)
    late = np.arange(n) >= eval_at
    serving = np.arange(n) >= serving_at

    df = pd.DataFrame({
        "encounter_id": 12522 + np.cumsum(rng.integers(50, 8000, size=n)),
        "patient_nbr": rng.integers(135, 189_502_619, size=n),
        "race": _choice(rng, _RACE, n),
        "gender": _choice(rng, _GENDER, n),
        "age": _choice(rng, _AGE, n),
        "weight": _choice(rng, _WEIGHT, n),
        "admission_type_id": _choice(rng, {1: .53, 3: .185, 2: .18, 6: .052, 5: .047, 8: .006}, n),
        "discharge_disposition_id": _choice(
            rng, {1: .592, 3: .137, 6: .127, 18: .036, 2: .021, 22: .020, 11: .016, 5: .012, 25: .010,
                  4: .008, 7: .006, 23: .004, 13: .004, 14: .004, 28: .003}, n),
        "admission_source_id": _choice(rng, {7: .565, 1: .291, 17: .067, 4: .031, 6: .022, 2: .011,
                                             5: .008, 3: .005}, n),
        "time_in_hospital": np.clip(rng.gamma(2.0, 2.2, size=n).round().astype(int), 1, 14),
    })
    payer = _choice(rng, _PAYER, n)
    # drift: after the training period a share of the unrecorded payers are recorded as Medicare (MC)
    payer[late & (payer == "?") & (rng.random(n) < 0.2)] = "MC"
    df["payer_code"] = payer
    df["medical_specialty"] = _choice(rng, _SPECIALTY, n)
    df["num_lab_procedures"] = np.clip(rng.normal(43, 19.7, size=n).round().astype(int), 1, 132)
    df["num_procedures"] = _choice(rng, {0: .46, 1: .20, 2: .13, 3: .09, 6: .05, 4: .04, 5: .03}, n)
    df["num_medications"] = np.clip(rng.gamma(4.0, 4.0, size=n).round().astype(int), 1, 81)
    df["number_outpatient"] = np.minimum(rng.poisson(0.37, size=n), 42)
    df["number_emergency"] = np.minimum(rng.poisson(0.20, size=n), 76)
    df["number_inpatient"] = np.minimum(rng.poisson(0.64, size=n), 21)
    codes = np.array(_icd9_codes(rng), dtype=object)
    weights = 1.0 / (np.arange(len(codes)) + 8.0)
    for column, missing in (("diag_1", 0.0), ("diag_2", 0.0), ("diag_3", 0.014)):
        diag = rng.choice(codes, size=n, p=weights / weights.sum())
        diag[rng.random(n) < missing] = "?"
        df[column] = diag
    df["number_diagnoses"] = np.clip(16 - rng.poisson(7.0, size=n), 1, 16)
    df["max_glu_serum"] = _choice(rng, _MAX_GLU, n)
    df["A1Cresult"] = _choice(rng, _A1C, n)

    on_drug = np.zeros(n, dtype=bool)
    changed = np.zeros(n, dtype=bool)
    for drug in DIABETES_MEDICATIONS:
        steady, up, down = _DRUGS.get(drug, (0, 0, 0))
        if drug == "insulin":  # skew: more insulin prescriptions in the serving period
            u = rng.random(n)
            shift = np.where(serving, 0.12, 0.0)
            values = np.where(u < down, "Down", np.where(u < down + up, "Up",
                              np.where(u < down + up + steady + shift, "Steady", "No")))
        else:
            values = rng.choice(np.array(["No", "Steady", "Up", "Down"]), size=n,
                                p=[1 - steady - up - down, steady, up, down])
        df[drug] = values.astype(object)
        on_drug |= values != "No"
        changed |= (values == "Up") | (values == "Down")
    df["change"] = np.where(changed | (on_drug & (rng.random(n) < 0.25)), "Ch", "No")
    df["diabetesMed"] = np.where(on_drug, "Yes", "No")

    # readmission within 30 days: more likely after earlier inpatient stays and in some specialties
    specialty = df["medical_specialty"].to_numpy()
    risk = (0.09 + 0.04 * np.minimum(df["number_inpatient"].to_numpy(), 3)
            + np.select([specialty == "Nephrology", specialty == "Cardiology",
                         np.char.startswith(specialty.astype(str), "Surgery")], [0.10, 0.04, -0.03], 0.0))
    u = rng.random(n)
    df["readmitted"] = np.where(u < risk, "<30", np.where(u < risk + 0.35, ">30", "NO"))

    for part, start, stop in (("eval", eval_at, serving_at), ("serving", serving_at, n)):
        for column, value, per_10k in DIABETES_DEFECTS[part]:
            where = rng.choice(np.arange(start, stop), size=_defect_count(per_10k, n), replace=False)
            df.loc[where, column] = value
            if column in DIABETES_MEDICATIONS:
                df.loc[where, "diabetesMed"] = "Yes"

    df = df[DIABETES_COLUMNS]
    if df.shape != (n, len(DIABETES_COLUMNS)):
        raise DataIntegrityError(f"diabetes: generated {df.shape}, expected ({n}, {len(DIABETES_COLUMNS)})")
    return df
