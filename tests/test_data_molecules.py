"""Tests of helpers.data.molecules: the NCI molecules loader, its energies, and the SDF parser that
course4_deployment/C4_W2_Lab_4_Beam_Batch_Predictions.ipynb runs inside a Beam DoFn."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from helpers import data
from helpers.data import molecules

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def frame():
    return data.load("nci_molecules")


def test_loader_is_registered_and_checked(frame):
    assert "nci_molecules" in data.available()
    assert list(frame.columns) == ["record", "smiles", "atoms", "mmff94_energy", "sdf"]
    assert len(frame) == 197 and frame.record.is_unique and frame.record.between(1, 200).all()
    assert frame.sdf.str.endswith("$$$$\n").all()
    assert -200 < frame.mmff94_energy.min() < frame.mmff94_energy.max() < 200


def test_limit(frame):
    assert len(data.load("nci_molecules", limit=5)) == 5


@pytest.mark.parametrize("limit", [0, -1, 2.5, "5", True])
def test_limit_must_be_a_positive_int(limit):
    with pytest.raises(ValueError, match="limit must be an int of at least 1 .or None for all of them., got"):
        data.load("nci_molecules", limit=limit)


def test_the_rdkit_file_is_the_checked_copy():
    path = molecules.nci_sdf_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == molecules.NCI_SDF_SHA256


def test_vendored_energies_match_the_uncompressed_checksum():
    raw = gzip.decompress((ROOT / "helpers/datasets/nci_molecules/mmff94_energies.csv.gz").read_bytes())
    assert hashlib.sha256(raw).hexdigest() == molecules._ENERGIES_SHA256


def test_vendored_energies_are_what_rdkit_computes(frame):
    from rdkit import Chem

    supplier = Chem.SDMolSupplier(str(molecules.nci_sdf_path()))
    for record in (1, 2, 4):  # three small molecules: the recomputation takes a moment each
        expected = frame.set_index("record").mmff94_energy[record]
        assert molecules.mmff94_energy(supplier[record - 1]) == pytest.approx(expected, abs=1e-3)


def test_mmff94_energy_refuses_what_is_not_a_molecule():
    with pytest.raises(TypeError, match="RDKit Chem.Mol"):
        molecules.mmff94_energy("CCO")


@pytest.mark.parametrize("arguments, message", [({"seed": -1}, "seed must be an int of at least 0, got -1"),
                                                ({"max_iterations": 0}, "max_iterations must be an int of at least 1")])
def test_mmff94_energy_refuses_a_bad_seed_or_iteration_count(arguments, message):
    from rdkit import Chem

    with pytest.raises(ValueError, match=message):
        molecules.mmff94_energy(Chem.MolFromSmiles("CCO"), **arguments)


def test_a_broken_energies_file_is_reported(monkeypatch):
    monkeypatch.setattr(molecules, "_ENERGIES_SHA256", "0" * 64)
    with pytest.raises(data.DataIntegrityError, match="not the expected copy"):
        data.load("nci_molecules")


def test_a_changed_rdkit_file_is_reported(monkeypatch):
    monkeypatch.setattr(molecules, "NCI_SDF_SHA256", "0" * 64)
    with pytest.raises(data.DataIntegrityError, match="reinstall rdkit"):
        molecules.nci_sdf_path()


# --- the parser ------------------------------------------------------------------------------------------

def test_parse_a_record(frame):
    parsed = molecules.parse_sdf_record(frame.sdf[0])
    assert parsed["name"] == "NCI-1"
    assert sorted(set(parsed["atoms"])) == ["C", "H", "O"] and len(parsed["atoms"]) == 15
    assert parsed["bonds"] == 15
    assert parsed["properties"]["SMILES"] == frame.smiles[0]
    assert float(parsed["properties"]["MMFF94_ENERGY"]) == pytest.approx(frame.mmff94_energy[0], abs=1e-4)


def test_split_and_parse_every_record(frame):
    records = molecules.split_sdf("".join(frame.sdf))
    assert len(records) == len(frame)
    parsed = [molecules.parse_sdf_record(r) for r in records]
    assert [p["name"] for p in parsed] == [f"NCI-{r}" for r in frame.record]
    assert [sum(a != "H" for a in p["atoms"]) for p in parsed] == frame.atoms.tolist()


def test_split_keeps_a_last_record_without_its_terminator(frame):
    text = frame.sdf[0] + frame.sdf[1].replace("$$$$\n", "") + "\n\n"
    assert len(molecules.split_sdf(text)) == 2
    assert molecules.split_sdf("\n \n") == []


def _cut(record: str, keep: int) -> str:
    return "\n".join(record.splitlines()[:keep]) + "\n$$$$\n"


@pytest.mark.parametrize(("make", "message"), [
    (lambda r: "", "empty SDF record"),
    (lambda r: "$$$$\n", "empty SDF record"),
    (lambda r: _cut(r, 3), "line 4 must be the counts line"),
    (lambda r: r.replace("V2000", "V3000"), "counts line of a V2000 molfile"),
    (lambda r: r.replace(" 15 15  0", "xx 15  0", 1), "must start with the numbers of atoms and bonds"),
    (lambda r: _cut(r, 8), "announces 15 atoms and 15 bonds, but the record is shorter"),
    (lambda r: r.replace(" O   0", " 9   0", 1), "atom line 5 has no element symbol"),
    (lambda r: r.replace("M  END\n", ""), "no 'M  END' line"),
])
def test_malformed_records_are_refused_with_the_reason(frame, make, message):
    with pytest.raises(molecules.SDFError, match=message):
        molecules.parse_sdf_record(make(frame.sdf[0]))


@pytest.mark.parametrize("bad", [None, b"bytes", 42])
def test_the_parser_and_splitter_want_text(bad):
    with pytest.raises(TypeError, match="str"):
        molecules.parse_sdf_record(bad)
    with pytest.raises(TypeError, match="str"):
        molecules.split_sdf(bad)
