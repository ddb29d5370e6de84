"""``[receipt_codes]`` in the unit file: checked at start-up, sent to kiosks only when set."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hailong.contract.messages import ContractError, decode_unit_config
from hailong.contract.receipt import DossierCode
from hailong.settings import ConfigError, load_unit
from hailong.settings.unit import Unit
from tests.conftest import REPO

EXAMPLE = REPO / "config" / "unit.toml"
DEFAULT_LINE = "external_patterns = []"


def unit_with(tmp_path: Path, patterns: str) -> Path:
    text = EXAMPLE.read_text()
    assert text.count(DEFAULT_LINE) == 1
    path = tmp_path / "unit.toml"
    path.write_text(text.replace(DEFAULT_LINE, f"external_patterns = {patterns}"))
    return path


def test_the_example_accepts_the_national_spelling_only(unit: Unit) -> None:
    assert unit.receipt_codes.external_patterns == ()
    assert unit.code_book().patterns == ()
    payload = unit.to_message().to_bytes()
    assert b"dossier_patterns" not in payload  # a kiosk older than the field still reads it
    assert decode_unit_config(payload).dossier_patterns is None


def test_patterns_are_loaded_and_sent_to_kiosks(tmp_path: Path) -> None:
    unit = load_unit(
        unit_with(tmp_path, '["G09.20-{yyyymmdd}-{seq:7}", "{unit}-{yymmdd}.{seq:5}"]')
    )
    book = unit.code_book()
    assert book.templates == ("G09.20-{yyyymmdd}-{seq:7}", "{unit}-{yymmdd}.{seq:5}")
    code = DossierCode.parse("G09.20-20260609-0092637", book)
    assert (code.unit, code.received_on) == ("000.00.20.H41", date(2026, 6, 9))
    config = decode_unit_config(unit.to_message().to_bytes())
    assert config.dossier_patterns == book.templates


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        ('["G09.20-{yyyymmdd}"]', "pattern 0 'G09.20-{yyyymmdd}': a template has exactly one {seq"),
        ('["G09.20-{yyyymmdd}-{seq:7}", "^G.*$"]', "pattern 1 '^G.*$': character '^'"),
        (
            '["A-{yymmdd}-{seq:4}", "A-{yymmdd}-{seq:4}"]',
            "pattern 1 'A-{yymmdd}-{seq:4}' is already",
        ),
        ('"G09.20-{yyyymmdd}-{seq:7}"', "Input should be a valid tuple"),
        ("[7]", "Input should be a valid string"),
    ],
)
def test_a_bad_pattern_names_the_file_the_key_and_what_is_expected(
    tmp_path: Path, patterns: str, expected: str
) -> None:
    path = unit_with(tmp_path, patterns)
    with pytest.raises(ConfigError) as error:
        load_unit(path)
    message = str(error.value)
    assert str(path) in message
    assert "receipt_codes.external_patterns" in message
    assert expected in message


def test_more_patterns_than_the_bound_are_refused(tmp_path: Path) -> None:
    many = ", ".join(f'"P{i:02d}-{{yymmdd}}-{{seq:4}}"' for i in range(17))
    with pytest.raises(ConfigError, match="17 patterns, more than 16"):
        load_unit(unit_with(tmp_path, f"[{many}]"))


def test_a_kiosk_refuses_a_config_whose_pattern_is_not_of_the_language(unit: Unit) -> None:
    good = unit.to_message().model_copy(update={"dossier_patterns": ("X-{yymmdd}-{seq:4}",)})
    assert decode_unit_config(good.to_bytes()).dossier_patterns == ("X-{yymmdd}-{seq:4}",)
    bad = good.to_bytes().replace(b"X-{yymmdd}-{seq:4}", b"(a+)+$")
    with pytest.raises(ContractError, match="dossier_patterns"):
        decode_unit_config(bad)
    empty = good.to_bytes().replace(b'["X-{yymmdd}-{seq:4}"]', b"[]")
    with pytest.raises(ContractError, match="dossier_patterns"):
        decode_unit_config(empty)
