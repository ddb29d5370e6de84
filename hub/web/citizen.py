"""Pages for citizens, no login: rate a receipt on a phone (the QR's URL) and the unit's public
summary. Nothing personal is shown; the receipt's signature is the citizen's only credential.

A rating must be the citizen's own: a browser carrying a live staff session (an officer, a head,
an administrator) is shown why it cannot rate, and a rating it sends is refused and not stored. A
rating sent from one of the unit's staff networks is kept but flagged suspect, out of the figures.

On a hub serving many units the receipt's unit is found from its code (:func:`hub.online.receipt_unit`:
the register, else the national spelling's unit code); its catalogue names the procedure and the
counter, its code is what the signature is checked against, and its kiosks hear of the rating."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from hailong.contract.receipt import ReceiptRefused
from hailong.contract.scale import FACE_SETS, Score
from hailong.settings import Unit
from hub.online import OnlineReceipt, open_receipt, receipt_unit, store_online_rating
from hub.web.context import Ctx, HubContext
from hub.web.pages import check_csrf, render, show_unit, signed_in

router = APIRouter(include_in_schema=False)
STAFF_REFUSED = (
    "Trình duyệt này đang đăng nhập tài khoản cán bộ: cán bộ không được đánh giá thay người dân. "
    "Người dân hãy đánh giá bằng điện thoại của mình.",
    "This browser is logged in to a staff account: staff cannot rate on a citizen's behalf. "
    "The citizen rates on their own phone.",
)


def _signed_query(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "") for k in ("p", "c", "o", "k", "s")}


def _unit_of(request: Request, ctx: HubContext, code: str) -> HubContext:
    """The context of the unit the receipt ``code`` belongs to (the home unit's when the hub
    serves no such unit: the signature check then refuses it as another unit's)."""
    found = receipt_unit(ctx.sessions, code)
    here = (ctx.for_unit(found) if found is not None else None) or ctx
    show_unit(request, here.unit)
    return here


def _open(request: Request, ctx: HubContext, code: str) -> OnlineReceipt:
    """The receipt of this URL; the keyring is read per page, so a revocation counts at once."""
    base = ctx.settings.hub.public_base_url.rstrip("/")
    url = f"{base}/r/{code}?{urlencode(_signed_query(request))}"
    return open_receipt(ctx.sessions, ctx.unit, ctx.settings.receipts.keyring(), url)


def _page(request: Request, ctx: HubContext, **values: Any) -> HTMLResponse:
    faces = [(s, s.label_vi, s.label_en) for s in FACE_SETS[ctx.unit.kiosk_policy.faces]]
    return render(request, "rate.html", faces=faces, **values)


def _staff_refusal(request: Request) -> HTMLResponse | None:
    """The refusal page when the request carries a live staff session (403), else None."""
    account = signed_in(request, any_unit=True)  # any unit's staff, the province's too
    if account is None:
        return None
    response = render(
        request, "rate.html", refused=STAFF_REFUSED, faces=[], staff=True, account=account
    )
    response.status_code = 403
    return response


@router.get("/r/{code}")
def rate_page(request: Request, ctx: Ctx, code: str) -> HTMLResponse:
    if (refusal := _staff_refusal(request)) is not None:
        return refusal
    ctx = _unit_of(request, ctx, code)
    try:
        receipt = _open(request, ctx, code)
    except (ReceiptRefused, ValueError) as exc:
        return _refused(request, exc)
    query = urlencode(_signed_query(request))
    return _page(request, ctx, receipt=receipt, query=query, **_names(ctx.unit, receipt))


@router.post("/r/{code}")
def rate(
    request: Request,
    ctx: Ctx,
    code: str,
    csrf: Annotated[str, Form()],
    score: Annotated[int, Form(ge=1, le=5)],
    reasons: Annotated[list[str] | None, Form(max_length=20)] = None,
    comment: Annotated[str, Form(max_length=1000)] = "",
    lang: Annotated[str, Form(pattern=r"^(vi|en)$")] = "vi",
) -> HTMLResponse:
    check_csrf(request, csrf)
    if (refusal := _staff_refusal(request)) is not None:
        return refusal
    ctx = _unit_of(request, ctx, code)
    try:
        receipt = _open(request, ctx, code)
    except (ReceiptRefused, ValueError) as exc:
        return _refused(request, exc)
    outcome = store_online_rating(
        ctx.sessions,
        ctx.unit,
        receipt,
        score=Score(score),
        reasons=tuple(reasons or ()),
        comment=comment,
        lang=lang,
        now=ctx.clock(),
        suspect=_from_staff_network(request, ctx.web.staff_networks),
    )
    if outcome.outcome == "stored":
        ctx.rated(str(receipt.claims.code), receipt.stage)
    done = outcome.outcome == "stored"
    names = _names(ctx.unit, receipt)
    return _page(request, ctx, receipt=receipt, query="", thanked=done, already=not done, **names)


def _from_staff_network(request: Request, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    """Whether the request came from one of the unit's staff networks (``[web] staff_networks``)."""
    if not networks or request.client is None:
        return False
    try:
        address = ip_address(request.client.host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _refused(request: Request, exc: Exception) -> HTMLResponse:
    if isinstance(exc, ReceiptRefused):
        message = (exc.message_vi, exc.message_en)
    else:
        message = ("Đường dẫn không phải giấy hẹn.", "This link is not a receipt.")
    response = render(request, "rate.html", refused=message, faces=[])
    response.status_code = 400
    return response


def _names(unit: Unit, receipt: OnlineReceipt) -> dict[str, str]:
    claims = receipt.claims
    procedure = unit.procedure(claims.procedure)
    counters = {c.code: c.name for c in unit.counters}
    return {
        "procedure_name": procedure.name if procedure else claims.procedure,
        "counter_name": counters.get(claims.counter, claims.counter),
    }
