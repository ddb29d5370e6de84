"""The paper-form desk: the one code path behind the staff page and the API for the survey forms
handed out with the receipt, and for ratings a helper records for a citizen they assist.

Each form goes through the same store as a kiosk's rating (:func:`hub.store.ratings.store_batch`,
channel ``paper``), after the same judgement against the receipt register
(:func:`hub.domain.register.judge`): a code the register knows is attributed from it (the form
names no officer), a code it does not know follows the unit's ``register_policy`` (stored as
unverified, counted only if the unit says so), a code that cannot be a receipt of the unit yet is
refused. So the figures, the rollups and the follow-up of dissatisfied ratings count a paper form
as they count a tap on the kiosk, and one rating per receipt and stage holds across channels:
a form for a receipt already rated (on the kiosk, online or on paper) is refused, nothing stored.
The rules staff are held to (an officer only when designated a paper clerk, never their own
dossier, answers and dates within bounds) are :mod:`hub.domain.paper`'s.

Many submissions of one form at once (a double click, two clerks keying the same sheet) race to
the unique index on (unit, dossier code, stage), as on the online page: the loser's transaction
is tried again, sees the winner's rating and is refused as already rated.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import RatingMessage, ReceiptRef
from hailong.contract.scale import Channel, Stage
from hailong.settings import Unit
from hub.domain.paper import (
    CheckedForm,
    FormRefused,
    Keyer,
    PaperForm,
    check_clerk,
    check_dates,
    check_form,
    check_keyer,
    form_instant,
    on_stage,
)
from hub.domain.register import (
    RATED_BEFORE_ISSUE,
    RECEIPT_MALFORMED,
    RECEIPT_NOT_ISSUED_YET,
    RECEIPT_OTHER_UNIT,
    Refusal,
    judge,
)
from hub.store.models import RatingRow
from hub.store.ratings import register_view, store_batch
from hub.store.rollups import Scope as RollupScope
from hub.store.rollups import channel_counts

PAPER_KIOSK = "paper"  # the "kiosk" of ratings keyed on the hub (gaps are tracked per kiosk)
STORE_ATTEMPTS = 5  # a losing transaction's retries; the second already sees the winner

# The register's refusals (hub.domain.register), as staff read them.
_REGISTER_REFUSALS = {
    RECEIPT_MALFORMED: (
        "Mã hồ sơ không đúng định dạng.",
        "This is not a dossier code.",
    ),
    RECEIPT_OTHER_UNIT: (
        "Hồ sơ này thuộc đơn vị khác.",
        "This dossier belongs to another unit.",
    ),
    RECEIPT_NOT_ISSUED_YET: (
        "Mã hồ sơ này chưa được cấp.",
        "This dossier code has not been issued yet.",
    ),
    RATED_BEFORE_ISSUE: (
        "Ngày trên phiếu trước ngày tiếp nhận hồ sơ.",
        "The form's date is before the receipt was issued.",
    ),
}
ALREADY_RATED = (
    "Hồ sơ này đã có đánh giá cho bước này: không lưu thêm.",
    "This dossier is already rated for this stage: nothing was stored.",
)


@dataclass(frozen=True)
class Entered:
    """A form stored: for the confirmation staff read back (who it counts for, whether the
    register knew the code and whether it is in the headline figures)."""

    rating_id: str
    code: str
    stage: Stage
    rated_at: datetime
    counter: str | None
    officer: str | None
    receipt_known: bool
    counted: bool
    assisted: bool


@dataclass(frozen=True)
class EntryView:
    """One form a login keyed, as its list shows it: no answers (the rater stays confidential)."""

    code: str
    stage: Stage
    rated_at: datetime
    received_at: datetime
    assisted: bool


@dataclass(frozen=True)
class ChannelCount:
    """Counted ratings of one channel (assisted ones apart) since a moment."""

    channel: str
    assisted: bool
    n: int


class PaperDesk:
    def __init__(
        self,
        unit: Unit,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        zone: tzinfo | None = None,
    ) -> None:
        # The unit's clock unless told otherwise: the days a form is checked and counted on.
        self.unit, self.sessions, self.clock = unit, sessions, clock
        self.zone = unit.zone if zone is None else zone

    def enter_paper_form(self, form: PaperForm, keyer: Keyer) -> Entered:
        """Store one returned paper form, keyed by ``keyer``; raises :class:`FormRefused`."""
        return self._enter(form, keyer, assisted=False)

    def record_assisted(self, form: PaperForm, helper: Keyer) -> Entered:
        """Store the answers a citizen gave with ``helper``'s help, now: the form's date must be
        today (the citizen is there). The helper is recorded (``entered_by``), and refused for a
        dossier the receipt names them on."""
        today = self.clock().astimezone(self.zone).date()
        if form.filled_on != today:
            raise FormRefused(
                "assisted_date",
                "Đánh giá có hỗ trợ được ghi ngay khi người dân trả lời (ngày hôm nay).",
                "An assisted rating is recorded while the citizen answers (today).",
            )
        return self._enter(form, helper, assisted=True)

    def _enter(self, form: PaperForm, keyer: Keyer, *, assisted: bool) -> Entered:
        check_clerk(keyer)
        now = self.clock()
        checked = check_form(
            form,
            today=now.astimezone(self.zone).date(),
            offered_reasons={reason.code for reason in self.unit.reasons},
        )
        for _ in range(STORE_ATTEMPTS - 1):
            try:
                return self._store(checked, keyer, now, assisted)
            except (IntegrityError, OperationalError):
                # Another transaction stored a rating of this receipt first (or held SQLite's
                # write lock): the next one sees it and refuses the form as already rated.
                continue
        return self._store(checked, keyer, now, assisted)

    def _store(self, form: CheckedForm, keyer: Keyer, now: datetime, assisted: bool) -> Entered:
        code = form.code
        with self.sessions.begin() as session:
            view = register_view(session, [code], now, zone=self.zone, book=self.unit.code_book())
            facts = view.receipts.get(code)
            check_keyer(keyer, facts)
            parsed = view.parsed.get(code)
            check_dates(form, facts, parsed.received_on if parsed else None, self.zone)
            rating = RatingMessage(
                id=uuid.uuid4(),
                unit=self.unit.unit.code,
                kiosk=PAPER_KIOSK,
                seq=1,  # no device sequence: gaps are tracked per kiosk only
                receipt=ReceiptRef(code=code, verified=False),  # a typed code: the register says
                stage=form.stage,
                score=form.score,
                reasons=form.reasons,
                factors=form.factors,
                not_applicable=form.not_applicable or None,
                channel=Channel.PAPER,
                rated_at=form_instant(form, facts, now, self.zone),
            )
            judged = judge(rating, view, self.unit)
            if isinstance(judged, Refusal):
                vi, en = _REGISTER_REFUSALS.get(judged.code, (judged.reason, judged.reason))
                raise FormRefused(judged.code, vi, en)
            attribution = on_stage(judged, facts, form.stage, keyer, assisted=assisted)
            if _rated(session, self.unit.unit.code, code, form.stage):
                raise FormRefused("already_rated", *ALREADY_RATED)
            (outcome,) = store_batch(session, [(rating, attribution)], now, zone=self.zone)
            if outcome.outcome != "stored":  # a race the check above could not see
                raise FormRefused("already_rated", *ALREADY_RATED)  # rolled back: nothing kept
        return Entered(
            rating_id=str(rating.id),
            code=code,
            stage=attribution.stage,
            rated_at=rating.rated_at,
            counter=attribution.counter,
            officer=attribution.officer,
            receipt_known=attribution.receipt_known,
            counted=attribution.counted,
            assisted=assisted,
        )

    def recent(self, entered_by: str, limit: int = 10) -> list[EntryView]:
        """The forms ``entered_by`` keyed most recently (their own list: no scores)."""
        query = (
            select(
                RatingRow.dossier_code,
                RatingRow.stage,
                RatingRow.rated_at,
                RatingRow.received_at,
                RatingRow.assisted,
            )
            .where(
                RatingRow.unit == self.unit.unit.code,
                RatingRow.channel == Channel.PAPER.value,
                RatingRow.entered_by == entered_by,
            )
            .order_by(RatingRow.received_at.desc())
            .limit(limit)
        )
        with self.sessions() as session:
            return [
                EntryView(row[0] or "", Stage(row[1]), row[2], row[3], bool(row[4]))
                for row in session.execute(query)
            ]

    def channel_counts(self, since: datetime) -> list[ChannelCount]:
        """The unit's counted ratings per channel since ``since`` (by the rating's time), the
        assisted ones apart: every channel in one count, each still visible. Read from the
        channel rollups (:func:`hub.store.rollups.channel_counts`), exact for any ``since``."""
        with self.sessions() as session:
            found = channel_counts(session, RollupScope(self.unit, since, zone=self.zone))
        per_channel: Counter[tuple[str, bool]] = Counter()
        for (channel, assisted, _score), n in found.items():
            per_channel[(channel, assisted)] += n
        return [ChannelCount(c, a, n) for (c, a), n in sorted(per_channel.items()) if n]


def _rated(session: Session, unit: str, code: str, stage: Stage) -> bool:
    found = session.scalar(
        select(RatingRow.id).where(
            RatingRow.unit == unit, RatingRow.dossier_code == code, RatingRow.stage == stage.value
        )
    )
    return found is not None
