"""The dossier feed's contract: the committed JSON Schemas are the models' own, every record the
codec writes passes them and reads back equal, and what breaks the contract is refused."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.contract import dossier_feed as feed
from hailong.contract.messages import ContractError
from hailong.contract.scale import Channel, Factor, Stage
from tests.support.dossier_feed import SCHEMAS, schema_errors


def record(**overrides: object) -> feed.DossierRating:
    fields: dict[str, object] = {
        "id": uuid.UUID("6f1c1b7e-3a57-4f55-9a59-0d7c5b0f7d11"),
        "unit": "000.00.20.H41",
        "dossier_code": "000.00.20.H41-261125-0007",
        "stage": Stage.RECEPTION,
        "channel": Channel.KIOSK,
        "kiosk": "kiosk-q1",
        "counter": "Q1",
        "officer": "CB001",
        "procedure": "1.001193",
        "field": "ho-tich",
        "score": 4,
        "satisfied": True,
        "rated_at": datetime(2026, 11, 25, 2, 30, tzinfo=UTC),
        "received_at": datetime(2026, 11, 25, 2, 30, 1, tzinfo=UTC),
        "receipt": feed.DossierDates(
            origin="issued",
            issued_at=datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
            promised_on=date(2026, 11, 28),
        ),
        "verified": True,
        "known": True,
        "counted": True,
        "suspect": False,
    }
    fields.update(overrides)
    return feed.DossierRating.model_validate(fields)


@pytest.mark.parametrize("kind", sorted(feed.SCHEMA_FILES))
def test_the_committed_schema_is_the_models_own(kind: str) -> None:
    committed = (SCHEMAS / feed.SCHEMA_FILES[kind]).read_text("utf-8")
    assert committed == feed.schema_text(kind), (
        f"docs/schemas/{feed.SCHEMA_FILES[kind]} is stale: the contract changed. If the change "
        "is meant (a receiver must be told), run "
        "`.venv/bin/python -m hailong.contract.dossier_feed docs/schemas` and say so in "
        "docs/data-out.md"
    )


def test_the_schema_names_no_personal_field() -> None:
    text = json.dumps(feed.json_schemas()).lower()
    for word in ("comment", "callback", "phone", "citizen", "contact", "entered_by", "url"):
        assert f'"{word}' not in text, word


def test_a_batch_passes_its_schema_and_reads_back() -> None:
    records = [record(), record(id=uuid.uuid4(), stage=Stage.RETURN, score=2, satisfied=False)]
    batch = feed.make_batch(records, source="https://hailong.example.gov.vn")
    body = feed.encode_batch(batch)
    assert schema_errors("batch", json.loads(body)) == []
    assert feed.decode_batch(body) == batch
    assert batch.batch_id == feed.batch_id_of(records) == feed.make_batch(records).batch_id


def test_the_batch_id_follows_the_records() -> None:
    one, two = record(), record(id=uuid.uuid4())
    assert feed.batch_id_of([one, two]) != feed.batch_id_of([two, one])
    assert feed.batch_id_of([one]) != feed.batch_id_of([one, two])
    forged = json.loads(feed.encode_batch(feed.make_batch([one, two])))
    forged["records"].pop()
    with pytest.raises(ContractError, match="batch_id"):
        feed.decode_batch(json.dumps(forged))
    assert schema_errors("batch", forged) == []  # only the codec can check the digest


def test_satisfied_must_be_the_score() -> None:
    for score in (1, 2, 3, 4, 5):
        assert record(score=score, satisfied=score >= 4).satisfied is (score >= 4)
    line = json.loads(feed.encode_record(record()))
    line["satisfied"] = False
    with pytest.raises(ContractError, match="satisfied"):
        feed.decode_record(json.dumps(line))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("score", 0),
        ("score", 6),
        ("score", "4"),
        ("score", True),
        ("v", 3),
        ("v", 1),  # a v1 record cannot carry what only v2 has
        ("not_applicable", ["result", "result"]),
        ("not_applicable", ["late"]),
        ("dossier_code", "SHORT"),
        ("dossier_code", "X" * 41),
        ("rated_at", "2026-11-25T02:30:00"),  # no offset
        ("rated_at", "1999-12-31T23:59:59Z"),  # before the contract's years
        ("channel", "sms"),
        ("comment", "một bình luận"),  # no such field: refused, never carried
        ("callback_phone", "0987654321"),
        ("duration_ms", 3_600_001),
        ("reasons", ["late"] * 33),
    ],
)
def test_what_breaks_the_contract_is_refused_by_codec_and_schema(key: str, value: object) -> None:
    line = json.loads(feed.encode_record(record(satisfied=True, factors={Factor.OFFICER: 4})))
    line["not_applicable"] = ["feedback"]
    line[key] = value
    if key == "score" and value in (0, 6):
        line["satisfied"] = False
    with pytest.raises(ContractError):
        feed.decode_record(json.dumps(line))
    assert schema_errors("record", line) != [], (key, value)


def test_the_bounds_of_a_batch() -> None:
    one = record()
    assert len(feed.make_batch([one] * feed.MAX_BATCH).records) == feed.MAX_BATCH
    with pytest.raises(ValueError, match="at most 5000"):
        feed.make_batch([one] * (feed.MAX_BATCH + 1))
    with pytest.raises(ValueError, match="at least 1"):
        feed.make_batch([])


codes = st.from_regex(r"^[A-Za-z0-9._-]{1,40}$", fullmatch=True)
instants = st.datetimes(
    min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=moment.microsecond))
offsets = st.integers(min_value=-12, max_value=14).map(lambda h: timezone(timedelta(hours=h)))


@given(
    score=st.integers(min_value=1, max_value=5),
    stage=st.sampled_from(list(Stage)),
    channel=st.sampled_from(list(Channel)),
    officer=st.none() | codes,
    factors=st.dictionaries(st.sampled_from(list(Factor)), st.integers(min_value=1, max_value=5)),
    skipped=st.lists(st.sampled_from(list(Factor)), unique=True),
    reasons=st.lists(codes, max_size=32).map(tuple),
    rated_at=instants,
    offset=offsets,
    returned=st.none() | instants,
    duration=st.none() | st.integers(min_value=0, max_value=3_600_000),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.booleans()),
)
def test_any_record_round_trips_and_passes_the_schema(
    score: int,
    stage: Stage,
    channel: Channel,
    officer: str | None,
    factors: dict[Factor, int],
    skipped: list[Factor],
    reasons: tuple[str, ...],
    rated_at: datetime,
    offset: timezone,
    returned: datetime | None,
    duration: int | None,
    flags: tuple[bool, bool, bool, bool, bool],
) -> None:
    verified, known, counted, suspect, assisted = flags
    original = record(
        id=uuid.uuid4(),
        score=score,
        satisfied=score >= 4,
        stage=stage,
        channel=channel,
        officer=officer,
        factors=factors,
        not_applicable=tuple(f for f in skipped if f not in factors),
        reasons=reasons,
        rated_at=rated_at.astimezone(offset),
        duration_ms=duration,
        receipt=feed.DossierDates(origin="registered", issued_at=rated_at, returned_at=returned),
        verified=verified,
        known=known,
        counted=counted,
        suspect=suspect,
        assisted=assisted,
    )
    line = feed.encode_record(original)
    assert "\n" not in line
    assert schema_errors("record", json.loads(line)) == []
    assert feed.decode_record(line) == original
    old = feed.as_version(original, 1)  # what a v1 destination takes: v1's schema, same id
    assert schema_errors("record-v1", json.loads(feed.encode_record(old))) == []
    assert (old.id, old.factors) == (original.id, original.factors)


def test_the_example_in_the_docs_is_a_valid_record() -> None:
    import re

    doc = (SCHEMAS.parent / "data-out.md").read_text("utf-8")
    match = re.search(r"```json\n(.*?)```", doc, re.DOTALL)
    assert match is not None
    assert schema_errors("record", json.loads(match.group(1))) == []
    assert feed.decode_record(match.group(1)).satisfied is True


def test_not_applicable_is_carried_from_version_2() -> None:
    answered = record(factors={Factor.OFFICER: 4}, not_applicable=(Factor.FEEDBACK,))
    line = json.loads(feed.encode_record(answered))
    assert (line["v"], line["not_applicable"]) == (2, ["feedback"])
    assert schema_errors("record", line) == []
    assert feed.decode_record(json.dumps(line)) == answered
    with pytest.raises(ContractError, match="answer in factors"):  # only the codec sees this
        feed.decode_record(json.dumps({**line, "not_applicable": ["officer"]}))


def test_a_version_1_destination_gets_version_1_word_for_word() -> None:
    answered = record(factors={Factor.OFFICER: 4}, not_applicable=(Factor.FEEDBACK,))
    batch = feed.make_batch([answered, record(id=uuid.uuid4())], version=1)
    body = json.loads(feed.encode_batch(batch))
    assert body["v"] == 1
    assert {r["v"] for r in body["records"]} == {1}
    assert all("not_applicable" not in r for r in body["records"])
    assert schema_errors("batch-v1", body) == []
    assert schema_errors("batch", body) != []  # a v2 receiver refuses it rather than guess
    line = json.loads(feed.encode_record(batch.records[0]))
    assert "not_applicable" not in line
    assert schema_errors("record-v1", line) == []
    assert feed.decode_batch(json.dumps(body)) == batch
    # Same ids, same batch id, whichever version a destination takes.
    assert batch.batch_id == feed.make_batch([answered, batch.records[1]]).batch_id
    two = feed.make_batch([record()])
    mixed = json.loads(feed.encode_batch(two))
    mixed["v"] = 1
    with pytest.raises(ContractError, match="version"):
        feed.decode_batch(json.dumps(mixed))
