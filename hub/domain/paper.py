"""Paper survey forms and assisted ratings: what staff may key in for a citizen (pure: no I/O).

Decree 61/2018 Article 29 lists paper forms beside the electronic device at the counter and the
online rating, and Circular 01/2018 Article 12 has the form handed out with the receipt. Staff
key each returned form in (:mod:`hub.paper.desk`), and a helper (an officer or a volunteer) may
record the answers of a citizen who cannot rate alone (Article 29, clause 4: assisted). Both are
stored as channel ``paper`` through the same path as the kiosk's ratings, so the figures, the
rollups and the follow-up of dissatisfied ratings treat them alike.

Because a person, not the citizen, types these in, the rules here are stricter than for a kiosk:

* the form names no officer: who is rated comes from the receipt register alone;
* an officer's login keys or helps only when the unit designated it a paper clerk
  (:func:`check_clerk`; heads and administrators always may): the citizens' answers pass through
  a few named hands;
* the login that keys or helps must not be an officer the receipt names (:func:`check_keyer`):
  an officer never rates their own dossier, not even on a citizen's behalf;
* every answer is within the SIPAS scale, and the form's date is neither in the future nor
  before the receipt was issued (or, for the return, before the result was handed back).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo

from hailong.contract.scale import Factor, Score, Stage
from hub.domain.ingest import Attribution, ReceiptFacts

# A form older than this is refused: the same window the hub keeps for a kiosk's ratings
# (hub.domain.ingest.IngestRules.max_past), so no channel reaches further back than another.
MAX_FORM_AGE = timedelta(days=400)
MAX_REASONS = 32  # as many as a kiosk's rating may carry (the contract's bound)
CODE_LENGTH = (8, 40)  # a dossier code's length, as the contract's ReceiptRef bounds it
# A form gives a day, not a time: it is dated at noon on the unit's clock, moved into the span
# the register allows (not before the issue or the return, not after now).
FORM_HOUR = time(12, 0)


class FormRefused(ValueError):
    """A form the hub will not store: ``code`` for tests and logs, the reason in Vietnamese and
    English for the person keying it. Nothing is stored when a form is refused."""

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(f"{message_vi} / {message_en}")
        self.code, self.message_vi, self.message_en = code, message_vi, message_en


@dataclass(frozen=True)
class Keyer:
    """The staff login keying a form or helping a citizen: its user name, and its officer code
    when the login is an officer's (None for a head, an administrator or a volunteer); ``clerk``
    when that officer is a designated paper clerk."""

    username: str
    officer: str | None = None
    clerk: bool = False


@dataclass(frozen=True)
class PaperForm:
    """One sheet as it is keyed in, raw: :func:`check_form` says whether it can be stored.

    ``factors``: the SIPAS factor answers the citizen gave (factor value to 1..5), blanks left
    out; ``reasons``: reason codes of the unit's catalogue ticked on the form;
    ``not_applicable``: factors the citizen marked "không áp dụng" (in no factor's count)."""

    code: str
    filled_on: date
    score: int
    factors: Mapping[str, int] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    stage: str = Stage.RECEPTION.value
    not_applicable: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckedForm:
    """A form whose answers and date are within bounds (the register is still to be asked)."""

    code: str
    filled_on: date
    score: Score
    factors: dict[Factor, Score]
    reasons: tuple[str, ...]
    stage: Stage
    not_applicable: tuple[Factor, ...] = ()


def check_form(form: PaperForm, *, today: date, offered_reasons: Collection[str]) -> CheckedForm:
    """The form's own bounds, before the register is asked: a dossier code of a code's length,
    a score and factor answers on the 5-level scale, reasons of the unit's catalogue, a known
    stage, a date not after ``today`` (the unit's) nor older than :data:`MAX_FORM_AGE`."""
    code = form.code.strip()
    if not CODE_LENGTH[0] <= len(code) <= CODE_LENGTH[1]:
        raise FormRefused(
            "code",
            f"Mã hồ sơ phải dài {CODE_LENGTH[0]}–{CODE_LENGTH[1]} ký tự.",
            f"A dossier code is {CODE_LENGTH[0]}-{CODE_LENGTH[1]} characters long.",
        )
    score = _score(form.score, "score", "Mức hài lòng chung", "The overall answer")
    factors: dict[Factor, Score] = {}
    for name, value in form.factors.items():
        factor = _factor(name)
        factors[factor] = _score(value, "factor", factor.label_vi, factor.label_en)
    not_applicable = _not_applicable(form.not_applicable, factors)
    reasons = tuple(dict.fromkeys(form.reasons))
    unknown = sorted(set(reasons) - set(offered_reasons))
    if unknown:
        listed = ", ".join(unknown)
        raise FormRefused(
            "reason",
            f"Lý do không có trong danh mục của đơn vị: {listed}.",
            f"Reasons not in the unit's catalogue: {listed}.",
        )
    if len(reasons) > MAX_REASONS:
        raise FormRefused(
            "reason", f"Tối đa {MAX_REASONS} lý do.", f"At most {MAX_REASONS} reasons."
        )
    try:
        stage = Stage(form.stage)
    except ValueError:
        raise FormRefused("stage", "Bước không hợp lệ.", "Unknown stage.") from None
    if form.filled_on > today:
        raise FormRefused(
            "date_future",
            f"Ngày trên phiếu ({form.filled_on:%d/%m/%Y}) ở tương lai.",
            f"The form's date ({form.filled_on.isoformat()}) is in the future.",
        )
    if form.filled_on < today - MAX_FORM_AGE:
        raise FormRefused(
            "date_stale",
            f"Phiếu quá cũ: chỉ nhận phiếu trong {MAX_FORM_AGE.days} ngày gần nhất.",
            f"The form is too old: only forms of the last {MAX_FORM_AGE.days} days are taken.",
        )
    return CheckedForm(code, form.filled_on, score, factors, reasons, stage, not_applicable)


def _factor(name: str) -> Factor:
    try:
        return Factor(name)
    except ValueError:
        raise FormRefused(
            "factor", f"Không có yếu tố {name!r}.", f"There is no factor {name!r}."
        ) from None


def _not_applicable(names: tuple[str, ...], answered: Mapping[Factor, Score]) -> tuple[Factor, ...]:
    """The factors marked "không áp dụng", each once; one also answered with a level is refused
    (the form says two things of it)."""
    found: list[Factor] = []
    for name in dict.fromkeys(names):
        factor = _factor(name)
        if factor in answered:
            raise FormRefused(
                "factor",
                f"{factor.label_vi}: vừa có mức vừa “không áp dụng”.",
                f"{factor.label_en}: both a level and “does not apply”.",
            )
        found.append(factor)
    return tuple(found)


def _score(value: int, code: str, what_vi: str, what_en: str) -> Score:
    # bool is an int: a ticked box is not an answer on the scale.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise FormRefused(
            code,
            f"{what_vi}: chọn một mức từ 1 đến 5.",
            f"{what_en}: choose a level from 1 to 5.",
        )
    return Score(value)


def check_clerk(keyer: Keyer) -> None:
    """Refuse an officer not designated a paper clerk, before anything of the form is read (it
    learns nothing of the dossier)."""
    if keyer.officer is not None and not keyer.clerk:
        raise FormRefused(
            "not_clerk",
            "Tài khoản công chức này chưa được giao nhập phiếu đánh giá.",
            "This officer's login is not designated to key rating forms.",
        )


def check_keyer(keyer: Keyer, facts: ReceiptFacts | None) -> None:
    """Refuse a login that is an officer the receipt names (who received it, or handed back its
    result): their own dossier's rating must come from the citizen, not through them."""
    if facts is None or keyer.officer is None:
        return
    if keyer.officer in {facts.officer, facts.returned_by}:
        raise FormRefused(
            "own_dossier",
            "Công chức không được tự nhập đánh giá cho hồ sơ của mình.",
            "An officer cannot enter a rating of their own dossier.",
        )


def check_dates(
    form: CheckedForm, facts: ReceiptFacts | None, code_day: date | None, zone: tzinfo
) -> None:
    """The form's date against the register: not before the receipt was issued (the day this
    hub issued it, else the day the code carries), and for the return stage the register must
    have recorded the return, not after the form's date."""
    issued_on = code_day
    if facts is not None and facts.origin == "issued" and facts.issued_at is not None:
        issued_on = facts.issued_at.astimezone(zone).date()
    if issued_on is not None and form.filled_on < issued_on:
        raise FormRefused(
            "date_before_issue",
            f"Ngày trên phiếu ({form.filled_on:%d/%m/%Y}) trước ngày tiếp nhận hồ sơ "
            f"({issued_on:%d/%m/%Y}).",
            f"The form's date ({form.filled_on.isoformat()}) is before the receipt was issued "
            f"({issued_on.isoformat()}).",
        )
    if form.stage is not Stage.RETURN:
        return
    if facts is None or facts.returned_at is None:
        raise FormRefused(
            "not_returned",
            "Sổ theo dõi chưa ghi trả kết quả hồ sơ này.",
            "The register has no return of this dossier's result.",
        )
    returned_on = facts.returned_at.astimezone(zone).date()
    if form.filled_on < returned_on:
        raise FormRefused(
            "date_before_return",
            f"Ngày trên phiếu ({form.filled_on:%d/%m/%Y}) trước ngày trả kết quả "
            f"({returned_on:%d/%m/%Y}).",
            f"The form's date ({form.filled_on.isoformat()}) is before the result was returned "
            f"({returned_on.isoformat()}).",
        )


def form_instant(
    form: CheckedForm, facts: ReceiptFacts | None, now: datetime, zone: tzinfo
) -> datetime:
    """When the form counts as given: noon of its date on the unit's clock, moved to no earlier
    than the issue (or the return, for the return stage) and no later than ``now``. Its day is
    then the form's date in every rollup, except when the clamp must cross a day (never, for a
    date :func:`check_dates` accepted)."""
    at = datetime.combine(form.filled_on, FORM_HOUR, tzinfo=zone)
    if facts is not None:
        earliest = facts.returned_at if form.stage is Stage.RETURN else None
        if earliest is None and facts.origin == "issued":
            earliest = facts.issued_at
        if earliest is not None:
            at = max(at, earliest)
    return min(at, now)


def on_stage(
    attribution: Attribution,
    facts: ReceiptFacts | None,
    stage: Stage,
    keyer: Keyer,
    *,
    assisted: bool,
) -> Attribution:
    """The register's attribution for the stage the form is about, marked as keyed by
    ``keyer``. The form says which moment it rates (handed out with the receipt: the
    reception); the register says who served it (the return's officer for the return)."""
    if facts is not None:
        officer = facts.officer
        if stage is Stage.RETURN:
            officer = facts.returned_by or facts.officer
        attribution = replace(attribution, stage=stage, officer=officer, claim_mismatch=())
    return replace(attribution, entered_by=keyer.username, assisted=assisted)
