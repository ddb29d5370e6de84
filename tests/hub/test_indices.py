"""The criteria files as an administrator edits them: the shipped folder loads, and every mistake
is a :class:`ConfigError` naming the file and the key."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from hailong.settings import ConfigError
from hub.indices import load_criteria

CRITERIA = Path(__file__).resolve().parents[2] / "config" / "criteria"
TT01 = (CRITERIA / "tt01-2018.toml").read_text(encoding="utf-8")


def folder_with(tmp_path: Path, **files: str) -> Path:
    target = tmp_path / "criteria"
    target.mkdir()
    for name, text in files.items():
        (target / f"{name}.toml").write_text(text, encoding="utf-8")
    return target


def edited(old: str, new: str, text: str = TT01) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_shipped_folder_loads() -> None:
    book = load_criteria(CRITERIA)
    assert [s.version for s in book.sets] == ["tt01-2018"]
    assert book.in_force(date(2026, 9, 30)) is book.sets[0]


def test_a_second_version_is_a_second_file(tmp_path: Path) -> None:
    later = edited('version = "tt01-2018"', 'version = "later-2026"')
    later = edited("effective = 2019-01-06", "effective = 2026-08-15", later)
    book = load_criteria(folder_with(tmp_path, **{"tt01-2018": TT01, "later-2026": later}))
    assert [s.version for s in book.sets] == ["tt01-2018", "later-2026"]
    assert book.in_force(date(2026, 8, 15)).version == "later-2026"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # a source that does not exist
        ('source = "rating"', 'source = "ratings"', "key `indicators.6.source`: Input should be"),
        # a score without points
        ("3 = 0   # Bình thường", "", "score_points must give points for every score 1-5"),
        # points above the indicator's maximum
        ("5 = 2   # Rất hài lòng", "5 = 3", "score_points give more than an indicator's max"),
        # a maximum that is not the sum of its indicators
        ("max = 18", "max = 20", "unit.max is 20 but its indicators add up to 18 points"),
        # bands out of order
        ('{ min = 12.0, label_vi = "Tốt"', '{ min = 16.0, label_vi = "Tốt"', "key `unit`: "),
        # no band down to 0
        ('{ min = 0.0, label_vi = "Yếu"', '{ min = 1.0, label_vi = "Yếu"', "min = 0"),
        # an officer indicator that does not exist
        ("indicators = [1, 2, 3, 4, 7]", "indicators = [1, 2, 3, 4, 10]", "unknown indicators"),
        # a source without data that does not say why
        (
            'no_data_en = "the kiosk does not ask this question yet"\n\n[[indicators]]\nnumber = 4',
            "\n[[indicators]]\nnumber = 4",
            "key `indicators.2`: Value error, source `survey`",
        ),
        # an unknown key (a typo)
        ("decimals = 1", "decimal = 1", "key `rounding.decimal`: Extra inputs are not permitted"),
        # a date that is not a date
        ("effective = 2019-01-06", 'effective = "06/01/2019"', "key `effective`"),
        # a file named after another version
        ('version = "tt01-2018"', 'version = "tt01-2019"', "key `version`: must be the file's"),
    ],
)
def test_a_bad_file_names_the_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    folder = folder_with(tmp_path, **{"tt01-2018": edited(old, new)})
    with pytest.raises(ConfigError) as caught:
        load_criteria(folder)
    assert str(folder / "tt01-2018.toml") in str(caught.value)
    assert message in str(caught.value)


def test_two_versions_on_one_day_are_refused(tmp_path: Path) -> None:
    twin = edited('version = "tt01-2018"', 'version = "twin"')
    folder = folder_with(tmp_path, **{"tt01-2018": TT01, "twin": twin})
    with pytest.raises(ConfigError, match=r"key `effective`: .* both take effect on 2019-01-06"):
        load_criteria(folder)


def test_no_folder_no_file_not_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="criteria folder not found"):
        load_criteria(tmp_path / "missing")
    empty = folder_with(tmp_path)
    with pytest.raises(ConfigError, match=r"no criteria file \(\*.toml\)"):
        load_criteria(empty)
    (empty / "broken.toml").write_text("version = ", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.toml: not valid TOML"):
        load_criteria(empty)


def test_the_example_folder_still_copies(tmp_path: Path) -> None:
    # The folder ships beside hub.toml, where `hailong report indices` looks by default.
    shutil.copytree(CRITERIA, tmp_path / "criteria")
    assert load_criteria(tmp_path / "criteria").sets[0].version == "tt01-2018"
