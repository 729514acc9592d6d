"""Molecules as SDF records: 200 compounds of the NCI open database shipped with RDKit, with MMFF94 energies.

``load_nci_molecules()`` returns one row per molecule with its SDF record (explicit hydrogens, as in
PubChem's Compound_3D files the original lab downloads) and its MMFF94 energy; ``split_sdf`` and
``parse_sdf_record`` read SDF text without RDKit, as the original lab's Beam pipeline does.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from helpers.arguments import whole

from .registry import DataIntegrityError, _sha256, read_vendored, register

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["NCI_SDF_SHA256", "SDFError", "load_nci_molecules", "mmff94_energy", "nci_sdf_path", "parse_sdf_record",
           "split_sdf"]

NCI_SDF_SHA256 = "c3eef33eec2c9676a54bbcec6dd1b91a099df9b0d0c8a1b60f5178767e4a3e13"  # first_200.props.sdf
_ENERGIES_SHA256 = "c36592483e1320a6e27c8f25205740c5ccdde936462142b214bf79941e284a19"
_RECORDS, _WITH_ENERGY = 200, 197
_INSTALL = "install RDKit (pip install rdkit), which ships the file in rdkit/Data/NCI/"


class SDFError(ValueError):
    """An SDF record that cannot be read; the message says which part is wrong.

    Introduced in course4_deployment/C4_W2_Lab_4_Beam_Batch_Predictions.ipynb.
    """


def nci_sdf_path() -> Path:
    """The path of ``first_200.props.sdf`` inside the installed RDKit, checked against its sha256.

    Raises:
        DataIntegrityError: RDKit is not installed, the file is missing, or it is not the expected copy.

    Introduced in course4_deployment/C4_W2_Lab_4_Beam_Batch_Predictions.ipynb.
    """
    try:
        from rdkit import RDConfig
    except ImportError:
        raise DataIntegrityError(f"RDKit is not installed; {_INSTALL}") from None
    path = Path(RDConfig.RDDataDir) / "NCI" / "first_200.props.sdf"
    if not path.is_file():
        raise DataIntegrityError(f"{path.name} is missing from RDKit's data folder; {_INSTALL}")
    if _sha256(path.read_bytes()) != NCI_SDF_SHA256:
        raise DataIntegrityError(f"{path.name} in RDKit's data folder is not the expected copy (sha256 differs); "
                                 "reinstall rdkit (pip install --force-reinstall rdkit)")
    return path


def mmff94_energy(molecule: object, seed: int = 42, max_iterations: int = 500) -> float | None:
    """The MMFF94 energy (kcal/mol) of one RDKit molecule after a 3-D embedding and a force-field minimisation.

    Hydrogens are added, one conformer is embedded with ``randomSeed=seed`` and minimised with MMFF94; the
    energy of that conformer is returned, or ``None`` when RDKit cannot embed the molecule or MMFF94 has no
    parameters for one of its atoms. This is how the energies vendored with ``load_nci_molecules`` were made.

    Introduced in course4_deployment/C4_W2_Lab_4_Beam_Batch_Predictions.ipynb.
    """
    from rdkit import Chem
    from rdkit.Chem import AllChem

    if not isinstance(molecule, Chem.Mol):
        raise TypeError(f"molecule must be an RDKit Chem.Mol, got {type(molecule).__name__}")
    whole("seed", seed, 0)
    whole("max_iterations", max_iterations)
    with_h = Chem.AddHs(molecule)
    if AllChem.EmbedMolecule(with_h, randomSeed=seed) != 0:
        return None
    properties = AllChem.MMFFGetMoleculeProperties(with_h)
    if properties is None:
        return None
    field = AllChem.MMFFGetMoleculeForceField(with_h, properties)
    field.Minimize(maxIts=max_iterations)
    return float(field.CalcEnergy())


@register("nci_molecules")
def load_nci_molecules(limit: int | None = None) -> "pd.DataFrame":
    """197 molecules of the NCI open database as SDF records with explicit hydrogens, and their MMFF94 energy.

    Provenance: ``first_200.props.sdf``, the first 200 compounds of the NCI (US National Cancer Institute)
    Open Database as shipped inside RDKit (``rdkit/Data/NCI``; RDKit is BSD-3, the NCI data is a US
    government work in the public domain), checked by sha256 (``NCI_SDF_SHA256``). Each record keeps its 2-D
    structure, gains its hydrogens (with coordinates), its ``SMILES`` and ``AMW`` properties and an
    ``MMFF94_ENERGY`` property: the energy (kcal/mol) computed by ``mmff94_energy`` with RDKit 2026.9.1
    (seed 42, 500 iterations), vendored in ``helpers/datasets/nci_molecules/`` (checksummed) because the
    computation takes about 10 s. The original lab reads PubChem's ``PUBCHEM_MMFF94_ENERGY`` the same way.
    The 3 compounds MMFF94 has no parameters for are left out.

    Columns: ``record`` (1-200, the position in the file), ``smiles``, ``atoms`` (heavy atoms),
    ``mmff94_energy``, ``sdf`` (the record's text, ending with ``$$$$``).

    Args:
        limit: keep only the first ``limit`` molecules (a positive int), or all with ``None``.

    Introduced in course4_deployment/C4_W2_Lab_4_Beam_Batch_Predictions.ipynb.
    """
    import pandas as pd
    from rdkit import Chem, RDLogger

    if limit is not None:
        whole("limit", limit, advice="or None for all of them")
    energies = pd.read_csv(io.BytesIO(read_vendored("nci_molecules", "mmff94_energies.csv.gz", _ENERGIES_SHA256)))
    RDLogger.DisableLog("rdApp.*")
    molecules = list(Chem.SDMolSupplier(os.fspath(nci_sdf_path())))
    if len(molecules) != _RECORDS or len(energies) != _RECORDS or any(m is None for m in molecules):
        raise DataIntegrityError(f"expected {_RECORDS} readable molecules and energies, got {len(molecules)} and "
                                 f"{len(energies)}; {_INSTALL}")
    rows = []
    for record, molecule, energy in zip(energies.record, molecules, energies.mmff94_energy):
        if pd.isna(energy):
            continue
        with_h = Chem.AddHs(molecule, addCoords=True)
        for name in list(with_h.GetPropNames()):
            if name not in ("SMILES", "AMW"):
                with_h.ClearProp(name)
        with_h.SetProp("MMFF94_ENERGY", f"{energy:.4f}")
        with_h.SetProp("_Name", f"NCI-{record}")
        text = io.StringIO()
        with Chem.SDWriter(text) as writer:
            writer.write(with_h)
        rows.append({"record": int(record), "smiles": molecule.GetProp("SMILES"),
                     "atoms": molecule.GetNumAtoms(), "mmff94_energy": float(energy), "sdf": text.getvalue()})
    if len(rows) != _WITH_ENERGY:
        raise DataIntegrityError(f"expected {_WITH_ENERGY} molecules with an energy, got {len(rows)}")
    frame = pd.DataFrame(rows)
    return frame.head(limit).reset_index(drop=True) if limit else frame


def split_sdf(text: str) -> list[str]:
    """The records of an SDF file's text: each ends at a ``$$$$`` line (kept); blank trailing text is dropped.

    Introduced in course4_deployment/C4_W2_Lab_4_Beam_Batch_Predictions.ipynb.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be the SDF file's text (str), got {type(text).__name__}")
    records, current = [], []
    for line in text.splitlines(keepends=True):
        current.append(line)
        if line.rstrip("\r\n") == "$$$$":
            records.append("".join(current))
            current = []
    if "".join(current).strip():
        records.append("".join(current))  # a last record without its $$$$: parse_sdf_record will judge it
    return records


def parse_sdf_record(text: str) -> dict:
    """One SDF (V2000 molfile) record -> ``{"name", "atoms": [element, ...], "bonds": int, "properties": {...}}``.

    Reads the counts line (atoms in columns 1-3, bonds in 4-6), takes each atom's element from columns
    32-34 of its line, and every ``> <NAME>`` data item after ``M  END`` as a string.

    Raises:
        SDFError: an empty record, a counts line that is not V2000, fewer atom or bond lines than it
            announces, an atom line without an element, or no ``M  END``; the message names the problem.

    Introduced in course4_deployment/C4_W2_Lab_4_Beam_Batch_Predictions.ipynb.
    """
    if not isinstance(text, str):
        raise TypeError(f"an SDF record must be text (str), got {type(text).__name__}")
    lines = [line.rstrip("\r\n") for line in text.splitlines()]
    if lines and lines[-1] == "$$$$":
        lines.pop()
    if not any(line.strip() for line in lines):
        raise SDFError("empty SDF record: expected a header of 3 lines, a counts line, atoms, bonds and 'M  END'")
    if len(lines) < 4 or not lines[3].rstrip().endswith("V2000"):
        raise SDFError("line 4 must be the counts line of a V2000 molfile (e.g. '  9  9  0 ... V2000'), got "
                       f"{lines[3] if len(lines) > 3 else 'nothing'!r}")
    try:
        n_atoms, n_bonds = int(lines[3][0:3]), int(lines[3][3:6])
    except ValueError:
        raise SDFError(f"the counts line must start with the numbers of atoms and bonds, got {lines[3]!r}") from None
    atom_lines = lines[4:4 + n_atoms]
    if len(atom_lines) < n_atoms or len(lines) < 4 + n_atoms + n_bonds:
        raise SDFError(f"the counts line announces {n_atoms} atoms and {n_bonds} bonds, but the record is "
                       f"shorter ({len(lines) - 4} lines after it)")
    atoms = [line[31:34].strip() for line in atom_lines]
    if not all(atom.isalpha() for atom in atoms):
        bad = next(i for i, atom in enumerate(atoms) if not atom.isalpha())
        raise SDFError(f"atom line {bad + 1} has no element symbol in columns 32-34: {atom_lines[bad]!r}")
    try:
        end = lines.index("M  END", 4 + n_atoms + n_bonds)
    except ValueError:
        raise SDFError("no 'M  END' line after the atoms and bonds: the record is cut short") from None
    properties, name = {}, None
    for line in lines[end + 1:]:
        if line.startswith(">") and "<" in line and ">" in line[1:]:
            name = line[line.index("<") + 1:line.index(">", line.index("<"))]
            properties[name] = ""
        elif name is not None and line.strip():
            properties[name] = f"{properties[name]}\n{line}" if properties[name] else line
        else:
            name = None
    return {"name": lines[0].strip(), "atoms": atoms, "bonds": n_bonds, "properties": properties}
