"""The prompt texts: fit to be heard, taken from the screens' own words, listed for the unit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.contract.scale import Factor, Score
from kiosk.domain.wording import QUESTIONS
from kiosk.prompts import (
    LANGS,
    PROMPTS,
    face_key,
    file_name,
    hearable,
    is_known,
    question_key,
    reason_key,
    record_table,
    text,
)
from kiosk.prompts.__main__ import main

DOCS = Path(__file__).parents[2] / "docs" / "voice.md"


def test_the_docs_list_every_line_to_record() -> None:
    """docs/voice.md holds the table a unit records from: it must be the current one."""
    page = DOCS.read_text(encoding="utf-8")
    table = page.split("<!-- prompts-table:start -->\n")[1].split("<!-- prompts-table:end -->")[0]
    assert table == record_table(), "run `python -m kiosk.prompts table` into docs/voice.md"


def test_the_table_names_every_file_and_the_reasons() -> None:
    table = record_table()
    for key in PROMPTS:
        for lang in LANGS:
            assert f"| `{file_name(key, lang)}` | {text(key, lang)} |" in table
    assert "`reason-<code>-vi.wav`" in table
    assert "`reason-<code>-en.wav`" in table


def test_faces_and_questions_are_the_screens_words() -> None:
    for score in Score:
        assert PROMPTS[face_key(score)] == (f"{score.label_vi}.", f"{score.label_en}.")
    for factor in Factor:
        vi, en = PROMPTS[question_key(factor)]
        assert vi == hearable(QUESTIONS[factor].vi)
        assert en == hearable(QUESTIONS[factor].en)
        assert "/" not in vi


@pytest.mark.parametrize(
    ("shown", "heard"),
    [
        ("Kết quả có đúng như ông/bà cần không?", "Kết quả có đúng như ông bà cần không?"),
        ("5 câu ngắn nữa — bỏ qua được", "5 câu ngắn nữa, bỏ qua được."),
        ("Ông/bà  vẫn đang đánh giá chứ", "Ông bà vẫn đang đánh giá chứ."),
        ("Rất hài lòng", "Rất hài lòng."),
        ("Thank you!", "Thank you!"),
    ],
)
def test_hearable(shown: str, heard: str) -> None:
    assert hearable(shown) == heard


@given(st.text(alphabet=st.sampled_from("abcđôơ /—–?. \tÔB"), min_size=1, max_size=40))
def test_hearable_never_leaves_a_slash_between_words_or_an_open_end(shown: str) -> None:
    heard = hearable(shown)
    assert not re.search("[/—–]", heard)
    assert heard.endswith((".", "?", "!"))
    assert heard == heard.strip()
    assert hearable(heard) == heard


def test_known_keys() -> None:
    assert is_known("thanks")
    assert is_known(reason_key("R-1.a"))
    assert not is_known("reason-")
    assert not is_known("nothing")


def test_the_module_prints_the_listing_and_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert capsys.readouterr().out.startswith("attract\tvi\t")
    assert main(["table"]) == 0
    assert capsys.readouterr().out == record_table()
    assert main(["nonsense"]) == 2


def test_the_kiosk_command_lists_the_lines_to_record() -> None:
    from click.testing import CliRunner

    from hailong.cli import cli

    result = CliRunner().invoke(cli, ["kiosk", "--list-prompts", "--config", "missing.toml"])
    assert result.exit_code == 0, result.output
    assert result.output == record_table()
