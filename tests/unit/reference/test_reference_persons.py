"""The `persons` reference kind (the records system's person table) and date-effective list entries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from auditwatch.commands.checks import check_everything
from auditwatch.errors import ConfigError
from auditwatch.reference import ReferenceConfig, load_reference
from auditwatch.reference.tables import PersonTable, person_keys

Load = Callable[[str, Path], ReferenceConfig]

NOMINALS = """\
NOMINAL_REF;SURNAME;FORENAMES;BIRTH_DATE;POSTCODE;ADDRESS;AKA
N-1;O'SULLIVAN;SEAN PATRICK;03/02/1988;sw1a1aa;12 MILL ROAD, ASHFORD;"BROWN, Sean | Jack Sullivan"
N-2;NORGAARD;ZOE;01/12/1979;AB12CD;Flat 3, 4 High Street;
N-3;SMITH;JANE;01/01/1990;;;
N-4;Smith;Jane Mary;01/01/1990;not a postcode;;
"""

CONFIG = """\
reference:
  sources:
    - kind: persons
      path: nominals.csv
      delimiter: ";"
      columns: {person_id: NOMINAL_REF, surname: SURNAME, forenames: FORENAMES, dob: BIRTH_DATE,
                postcode: POSTCODE, address: ADDRESS, aliases: AKA}
"""


def _persons(tmp_path: Path, load_config: Load, text: str = NOMINALS, config: str = CONFIG) -> PersonTable:
    (tmp_path / "nominals.csv").write_text(text, encoding="utf-8")
    snap, _warnings = load_reference(load_config(config, tmp_path))
    (table,) = snap.persons
    return table


def test_person_table_is_loaded_with_normalised_postcodes_and_folded_keys(
    tmp_path: Path, load_config: Load
) -> None:
    """Upper-cased names, unspaced lower-case postcodes and dd/mm/yyyy dates load into canonical form."""
    table = _persons(tmp_path, load_config)
    sean = table.by_id["N-1"]
    assert (sean.surname, sean.forenames, sean.dob) == ("O'SULLIVAN", "SEAN PATRICK", "1988-02-03")
    assert sean.postcode == "SW1A 1AA"
    assert table.by_id["N-2"].postcode == "AB1 2CD"
    assert person_keys(sean)[0][0] == "osullivan|sean|1988-02-03"
    assert table.pids_with("osullivan|sean|1988-02-03") == ("N-1",)


def test_aliases_are_extra_identity_keys_with_the_person_dob(tmp_path: Path, load_config: Load) -> None:
    """Each alias ("SURNAME, Forenames" or "Forenames Surname") is an identity key with the person's DOB."""
    table = _persons(tmp_path, load_config)
    assert table.by_id["N-1"].aliases == ("BROWN, Sean", "Jack Sullivan")
    assert table.pids_with("brown|sean|1988-02-03") == ("N-1",)
    assert table.pids_with("sullivan|jack|1988-02-03") == ("N-1",)


def test_one_identity_key_shared_by_several_persons_lists_them_sorted(
    tmp_path: Path, load_config: Load
) -> None:
    """Duplicate nominals (same surname, first forename and DOB) map one key to every person id, sorted."""
    table = _persons(tmp_path, load_config)
    assert table.pids_with("smith|jane|1990-01-01") == ("N-3", "N-4")


def test_bad_postcode_is_ignored_and_the_row_kept(tmp_path: Path, load_config: Load) -> None:
    """A cell that is not a postcode is reported; the person stays (their identity is still good)."""
    (tmp_path / "nominals.csv").write_text(NOMINALS, encoding="utf-8")
    snap, warnings = load_reference(load_config(CONFIG, tmp_path))
    assert snap.persons[0].by_id["N-4"].postcode is None
    assert any(
        "nominals.csv:5: AW104 [postcode] 'not a postcode' is not a UK postcode" in str(w) for w in warnings
    )


def test_duplicate_person_id_keeps_the_first_row(tmp_path: Path, load_config: Load) -> None:
    """A person id listed twice is reported; the first row stands."""
    text = NOMINALS + "N-1;OTHER;ANN;01/01/1970;;;\n"
    config = CONFIG.replace("sources:", "max_bad_rows_percent: 50\n  sources:")
    (tmp_path / "nominals.csv").write_text(text, encoding="utf-8")
    snap, warnings = load_reference(load_config(config, tmp_path))
    assert snap.persons[0].by_id["N-1"].surname == "O'SULLIVAN"
    assert any("person id 'N-1' already on line 2" in str(w) for w in warnings)


def test_person_id_is_required(tmp_path: Path, load_config: Load) -> None:
    """A persons export without its id column is rejected naming the column."""
    (tmp_path / "nominals.csv").write_text("SURNAME;FORENAMES\nSMITH;JANE\n", encoding="utf-8")
    config = "reference:\n  sources:\n    - {kind: persons, path: nominals.csv, delimiter: ';'}\n"
    with pytest.raises(ConfigError, match="person_id"):
        load_reference(load_config(config, tmp_path))


def test_watchlist_and_associate_dates_are_read(tmp_path: Path, load_config: Load) -> None:
    """Watchlist added_on/removed_on and associates declared_on/ended_on bound the days an entry applies."""
    (tmp_path / "watch.csv").write_text(
        "person_id,category,added_on,removed_on\nP-1,celebrity,2026-03-01,\nP-2,celebrity,,2026-02-01\n"
        "P-3,celebrity,2026-03-01,2026-02-01\n"
    )
    (tmp_path / "assoc.csv").write_text(
        "staff_id,person_id,declared_on,ended_on\nMP1,P-9,2025-01-01,2026-01-01\n"
    )
    config = (
        "reference:\n  max_bad_rows_percent: 50\n  sources:\n    - {kind: watchlist, path: watch.csv}\n"
        "    - {kind: associates, path: assoc.csv}\n"
    )
    snap, warnings = load_reference(load_config(config, tmp_path))
    first = snap.watchlists[0].by_person["P-1"][0]
    assert (first.applies_on("2026-02-28"), first.applies_on("2026-03-01")) == (False, True)
    second = snap.watchlists[0].by_person["P-2"][0]
    assert (second.applies_on("2026-01-31"), second.applies_on("2026-02-01")) == (True, False)
    assert "P-3" not in snap.watchlists[0].by_person
    assert any(
        "[removed_on] removed_on (2026-02-01) is not after added_on (2026-03-01)" in str(w) for w in warnings
    )
    declared = snap.associates[0].by_staff["MP1"][0]
    assert (
        declared.applies_on("2024-12-31"),
        declared.applies_on("2025-06-01"),
        declared.applies_on("2026-01-01"),
    ) == (False, True, False)


def test_check_config_reports_what_person_ids_reach(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check-config prints the identity report: staff without person ids in HR are reached by name + DOB."""
    repo = Path(__file__).resolve().parents[3]
    (tmp_path / "nominals.csv").write_text(NOMINALS, encoding="utf-8")
    (tmp_path / "hr.csv").write_text(
        "staff_id,surname,forenames,dob\nMP000001,O'Sullivan,Seán,1988-02-03\nMP000002,Khan,Ali,1970-01-01\n",
        encoding="utf-8",
    )
    cfg = tmp_path / "aw.yml"
    cfg.write_text(
        f"inputs: [{{name: a, paths: [x.log], parser: rms_json}}]\nparsers_dir: {repo / 'parsers'}\n"
        f"rules_dir: {repo / 'rules'}\nelasticsearch: {{hosts: ['http://127.0.0.1:9200']}}\n"
        + CONFIG.replace("sources:", "sources:\n    - {kind: staff, path: hr.csv}"),
        encoding="utf-8",
    )
    problems, summary = check_everything(cfg)  # what `auditwatch check-config` prints
    assert problems == []
    out = "\n".join(summary)
    assert "identity: 4 persons (nominals.csv)" in out
    assert (
        "staff a person id reaches: 1 of 2 (0 by their own person id, 1 by name and DOB through the "
        "persons table)" in out
    )
