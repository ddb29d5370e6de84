"""What the hub believes about a rating: its receipt register and unit catalogue, not the kiosk
(pure: no I/O; the store reads what the register says, :class:`RegisterView`).

A kiosk's MQTT password is the easiest thing to steal in a one-stop office, and with it anyone can
publish any rating the contract allows. So the kiosk's word decides nothing the register can
check:

* a code the register knows is attributed from the register (:func:`hub.domain.ingest.attribute`),
  a contradicting claim flagged;
* a code that cannot be the unit's receipt, or cannot have been issued yet, is refused
  (:func:`judge`), so a hostile kiosk cannot take the "one rating per receipt" slot of a slip that
  a citizen will be handed later;
* a code the register does not know is stored as unverified, out of the headline figures unless
  the unit counts them;
* ratings without a receipt follow the unit's walk-in policy, and receipt-less or unverified
  ratings of one kiosk closer together than the policy's interval are kept as suspect, not
  counted (:func:`pace`).

docs/protocol.md, "What the hub believes", states these rules for people.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from hailong.contract.messages import RatingMessage
from hailong.contract.receipt import DossierCode, ReceiptRefused
from hailong.settings import Unit
from hub.domain.ingest import Attribution, ReceiptFacts, attribute

# The refusals, as the short machine codes dead letters and /metrics count them by.
RECEIPT_MALFORMED = "receipt_malformed"
RECEIPT_OTHER_UNIT = "receipt_other_unit"
RECEIPT_NOT_ISSUED_YET = "receipt_not_issued_yet"
RATED_BEFORE_ISSUE = "rated_before_issue"
WALK_IN_NOT_ALLOWED = "walk_in_not_allowed"
REFUSAL_CODES = (
    RECEIPT_MALFORMED,
    RECEIPT_OTHER_UNIT,
    RECEIPT_NOT_ISSUED_YET,
    RATED_BEFORE_ISSUE,
    WALK_IN_NOT_ALLOWED,
)
# Every verdict /metrics counts: the refusals, then what a stored rating may be flagged.
VERDICTS = (*REFUSAL_CODES, "claim_mismatch", "unverified", "suspect")


@dataclass(frozen=True)
class Refusal:
    """A rating the hub will not keep: ``code`` is one of :data:`REFUSAL_CODES`, ``reason`` says
    what was wrong for the dead-letter page and the kiosk's ack."""

    code: str
    reason: str


@dataclass(frozen=True)
class RegisterView:
    """What the register says about the codes of one batch, read in one go by the store.

    ``allocated``: the last dossier sequence handed out per (unit, local day), for the days of the
    batch's unknown codes (a day missing: none was). ``today``: the unit's date now, the day issuing
    dates new codes with (both on :mod:`hailong.contract.clock`): a code dated after it cannot
    have been issued yet, and today's numbering is still going on.
    ``parsed``: the batch's codes already read (the store reads them to query the register), so
    a code is parsed once per batch, not again here.
    """

    receipts: Mapping[str, ReceiptFacts]
    allocated: Mapping[tuple[str, date], int]
    today: date
    parsed: Mapping[str, DossierCode] = field(default_factory=dict)


def judge(rating: RatingMessage, view: RegisterView, unit: Unit) -> Attribution | Refusal:
    """Keep (attributed) or refuse one rating that already follows the contract.

    The order makes each refusal mean one thing: a code that cannot be read is malformed before
    anything else is asked of it; another unit's code is that before the register is consulted
    (our register never holds it); then the register's own facts; a code it does not know is
    refused only when it cannot have been issued yet, otherwise kept as unverified.
    """
    if rating.receipt is None:
        if not unit.kiosk_policy.allow_walk_in:
            return Refusal(
                WALK_IN_NOT_ALLOWED, "walk-in: the unit allows no rating without a receipt"
            )
        return attribute(rating, None, unit)
    text = rating.receipt.code
    code = view.parsed.get(text)
    if code is None:
        try:
            code = DossierCode.parse(text, unit.code_book())
        except ReceiptRefused as exc:
            return Refusal(RECEIPT_MALFORMED, f"receipt: {exc.detail or exc.message_en}")
    if code.unit != rating.unit:
        return Refusal(
            RECEIPT_OTHER_UNIT, f"receipt {text} is of unit {code.unit}, not {rating.unit}"
        )
    facts = view.receipts.get(text)
    if facts is not None:
        if facts.unit is not None and facts.unit != rating.unit:
            return Refusal(RECEIPT_OTHER_UNIT, f"receipt {text} is in the register of {facts.unit}")
        skew = timedelta(seconds=unit.register_policy.issue_clock_skew_s)
        # Only a code this hub allocated has a slip from that moment on; another system's code
        # (registered here later) was in the citizen's hands, and typed, before.
        issued_at = facts.issued_at if facts.origin == "issued" else None
        if issued_at is not None and rating.rated_at < issued_at - skew:
            return Refusal(
                RATED_BEFORE_ISSUE,
                f"receipt {text} was issued at {issued_at.isoformat()}, "
                f"rated at {rating.rated_at.isoformat()}",
            )
        return attribute(rating, facts, unit)
    if code.received_on > view.today:
        return Refusal(
            RECEIPT_NOT_ISSUED_YET,
            f"receipt {text} is dated after today ({view.today.isoformat()})",
        )
    if not code.national:
        # Another system's spelling, numbered by that system: only its date can be judged.
        return attribute(rating, None, unit)
    last = view.allocated.get((code.unit, code.received_on))
    open_day = code.received_on >= view.today
    # A past day the hub issued nothing on is another system's (or before the hub): unverified.
    # Today, or a day the hub numbered, a code past the last one handed out is still to come.
    if (last is not None or open_day) and code.sequence > (last or 0):
        return Refusal(
            RECEIPT_NOT_ISSUED_YET,
            f"receipt {text}: sequence {code.sequence} is past the {last or 0} issued that day",
        )
    return attribute(rating, None, unit)


# A kiosk's stored, unsuspected ratings without a known receipt: (unit, kiosk) -> their rated_at.
PacedTimes = Mapping[tuple[str, str], Iterable[datetime]]


def needs_pacing(attribution: Attribution) -> bool:
    """Receipt-less and unverified ratings are what a stolen kiosk can make up at will; a code the
    register knows is limited by being rated once."""
    return not attribution.receipt_known


def pace(
    items: Sequence[tuple[RatingMessage, Attribution]],
    earlier: PacedTimes,
    interval_s: float,
) -> list[Attribution]:
    """Flag as ``suspect`` (kept, not counted) each receipt-less or unverified rating made less
    than ``interval_s`` after or before another such rating of the same kiosk not itself suspect.

    Times are the kiosk's ``rated_at``, not arrival: a kiosk back from an outage delivers an
    hour's walk-ins at once, and each must still count if it was made at a proper pace. A
    hostile kiosk inventing times gets at most one counted rating per interval of the times the
    hub accepts. ``earlier``: the unsuspected ones already stored near these times. In the batch,
    ratings are taken in order, so of two too close the first counts. A rating at exactly the
    interval from another is not suspect.
    """
    gap = timedelta(seconds=interval_s)
    taken: defaultdict[tuple[str, str], list[datetime]] = defaultdict(list)
    for key, times in earlier.items():
        taken[key] = sorted(times)
    out: list[Attribution] = []
    for rating, attribution in items:
        if not needs_pacing(attribution) or interval_s <= 0:
            out.append(attribution)
            continue
        times = taken[(rating.unit, rating.kiosk)]
        at = rating.rated_at
        i = bisect.bisect_left(times, at)
        near = (i > 0 and at - times[i - 1] < gap) or (i < len(times) and times[i] - at < gap)
        if near:
            out.append(replace(attribution, suspect=True, counted=False))
            continue
        times.insert(i, at)
        out.append(attribution)
    return out
