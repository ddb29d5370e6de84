"""Every unit page serves any unit in the login's scope (``?unit=CODE``), on a hub whose
catalogue is in the database and serves a province over two communes, A (the home unit) and B.

A commune's head sees their commune's dashboard and follow-ups and gets 404 for the other's on
every unit page (the same answer as for a unit the hub does not serve); the province's head opens
both; an officer issues receipts in their own unit only; a citizen's rating of a B receipt goes
to B and B's kiosks hear of it; the dashboard's target comes from the targets table.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.messages import RatingMessage, ReceiptRef
from hailong.contract.scale import Score, Stage
from hailong.settings import ReceiptKeys, Unit
from hub.domain.ingest import Attribution
from hub.domain.periods import local_today
from hub.receipts.desk import IssueRequest
from hub.store.catalogue import import_unit
from hub.store.db import make_engine, session_factory
from hub.store.models import RatingRow, ReceiptRow
from hub.store.ratings import store_batch
from hub.store.targets import set_target
from hub.web.app import create_app
from hub.web.context import current
from tests.hailong.contract.test_messages import make_rating
from tests.hub.store.test_catalogue import other_unit
from tests.hub.web.conftest import PASSWORD, hub_settings
from tests.hub.web.test_admin_database import HOME, PROVINCE, WARD_B, province_unit

A, B = HOME, WARD_B
LOGINS = {  # user name: (role, officer, scope)
    "head-a": ("head", None, A),
    "admin-a": ("admin", None, A),
    "lan-a": ("officer", "CB001", A),
    "head-b": ("head", None, B),
    "lan-b": ("officer", "CB001", B),
    "tinh": ("head", None, PROVINCE),
    "tinh-admin": ("admin", None, PROVINCE),
}


@dataclass
class Province:
    app: FastAPI
    sessions: sessionmaker[Session]
    ratings: dict[str, str]  # unit code: the id of its dissatisfied rating
    announced: list[tuple[object, ...]]  # what the web told the kiosks (on_rated's calls)
    names: dict[str, str]


def dissatisfied_rating(unit: str, seq: int) -> tuple[str, list[tuple[RatingMessage, Attribution]]]:
    now = datetime.now(UTC)
    rating = make_rating(
        id=uuid.uuid4(),
        unit=unit,
        kiosk=f"kiosk-{seq}",
        seq=seq,
        score=Score.DISSATISFIED,
        rated_at=now - timedelta(minutes=5),
        receipt=ReceiptRef(code=f"{unit}-261125-{seq:04d}", verified=True),
        reasons=("thai-do",),
    )
    return str(rating.id), [(rating, Attribution("Q1", "CB001", "1.001193", "ho-tich", True))]


def build(folder: Path, unit: Unit, receipt_keys: ReceiptKeys) -> Province:
    """The hub's app over the province, A and B in its tables, one dissatisfied rating in each,
    targets set for the province (93 %) and B (97,5 %), and :data:`LOGINS`."""
    settings = hub_settings(folder, receipt_keys, LOGINS, catalogue="database", unit=A)
    sessions = session_factory(make_engine(settings.hub.database_url))
    ward_b = other_unit(unit, B, "b")
    now = datetime.now(UTC)
    ratings: dict[str, str] = {}
    with sessions.begin() as session:
        import_unit(session, province_unit(), kind="province")
        import_unit(session, unit, parent=PROVINCE)
        import_unit(session, ward_b, parent=PROVINCE)
        for seq, code in enumerate((A, B), start=1):
            ratings[code], items = dissatisfied_rating(code, seq)
            store_batch(session, items, now)
        year = local_today(now).year  # the dashboard's year: Vietnam's
        set_target(session, PROVINCE, year, 93.0, "tinh-admin", now)
        set_target(session, B, year, 97.5, "tinh-admin", now)
    announced: list[tuple[object, ...]] = []
    app = create_app(settings, unit, sessions, on_rated=lambda *told: announced.append(told))
    names = {A: unit.unit.name, B: ward_b.unit.name}
    return Province(app, sessions, ratings, announced, names)


@pytest.fixture(scope="module")
def province(
    tmp_path_factory: pytest.TempPathFactory, unit: Unit, receipt_keys: ReceiptKeys
) -> Province:
    return build(tmp_path_factory.mktemp("unit-pages"), unit, receipt_keys)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


@pytest.fixture(scope="module")
def logged_in(province: Province) -> Iterator[dict[str, TestClient]]:
    """One signed-in client per login (argon2 makes a login slow on purpose: once each)."""
    clients = {}
    for name in LOGINS:
        client = TestClient(province.app)
        form = {"username": name, "password": PASSWORD}
        form["csrf"] = csrf_of(client.get("/staff/login").text)
        assert client.post("/staff/login", data=form, follow_redirects=False).status_code == 303
        clients[name] = client
    yield clients
    for client in clients.values():
        client.close()


def _csrf(client: TestClient) -> str:
    return csrf_of(client.get("/staff/password").text)


def test_a_commune_head_sees_their_own_commune(
    province: Province, logged_in: dict[str, TestClient]
) -> None:
    for who, mine, other in (("head-a", A, B), ("head-b", B, A)):
        client = logged_in[who]
        page = client.get("/dashboard")  # no ?unit=: their own commune
        assert page.status_code == 200
        assert province.names[mine] in page.text
        assert province.names[other] not in page.text
        listed = client.get("/follow-up").text
        assert province.ratings[mine] in listed
        assert province.ratings[other] not in listed
        detail = client.get(f"/follow-up/{province.ratings[mine]}")
        assert detail.status_code == 200
        # Another commune's follow-up is not found, whichever unit the URL names.
        assert client.get(f"/follow-up/{province.ratings[other]}").status_code == 404
    # B is not the home unit: its links keep ?unit=, the official report is linked.
    page = logged_in["head-b"].get("/dashboard").text
    assert f'href="/follow-up?unit={B}"' in page
    assert f'href="/follow-up/{province.ratings[B]}?unit={B}"' in (
        logged_in["head-b"].get("/follow-up").text
    )
    assert 'href="/reports/official"' in page


def test_the_dashboard_target_comes_from_the_targets_table(
    logged_in: dict[str, TestClient],
) -> None:
    tinh = logged_in["tinh"]
    assert "Chỉ tiêu / target 93 %" in tinh.get(f"/dashboard?unit={A}").text  # the province's
    assert "Chỉ tiêu / target 97.5 %" in tinh.get(f"/dashboard?unit={B}").text  # B's own


def test_the_province_head_opens_both_communes(
    province: Province, logged_in: dict[str, TestClient]
) -> None:
    tinh = logged_in["tinh"]
    assert province.names[A] in tinh.get("/dashboard").text  # the home unit by default
    for code in (A, B):
        page = tinh.get(f"/dashboard?unit={code}")
        assert page.status_code == 200
        assert f"<strong>Hài Lòng</strong> · {province.names[code]}" in page.text
        listed = tinh.get(f"/follow-up?unit={code}").text
        assert province.ratings[code] in listed
        assert tinh.get(f"/follow-up/{province.ratings[code]}?unit={code}").status_code == 200
        export = tinh.get(f"/dashboard/export.csv?unit={code}")
        assert export.status_code == 200
        assert f"mdhl-{code}-month-" in export.headers["content-disposition"]
    # The rating is B's: asked about in A it is not found.
    assert tinh.get(f"/follow-up/{province.ratings[B]}?unit={A}").status_code == 404
    # The province itself has no counters of its own: 200, its (empty) page.
    assert tinh.get(f"/dashboard?unit={PROVINCE}").status_code == 200


def test_the_province_head_follows_up_in_b(
    province: Province, logged_in: dict[str, TestClient]
) -> None:
    tinh = logged_in["tinh"]
    rating = province.ratings[B]
    detail = tinh.get(f"/follow-up/{rating}?unit={B}").text
    version = re.search(r'name="version" value="(\d+)"', detail)
    assert version
    assert "lan-b" in detail  # B's officers are assignable, not A's
    assert "lan-a" not in detail
    done = tinh.post(
        f"/follow-up/{rating}/assign?unit={B}",
        data={"csrf": csrf_of(detail), "version": version.group(1), "assignee": "lan-b"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/follow-up/{rating}?done=assign&unit={B}"
    # B's officer now sees it, in their own unit; A's officer with the same code does not.
    assert rating in logged_in["lan-b"].get("/follow-up").text
    assert rating not in logged_in["lan-a"].get("/follow-up").text


def _form(client: TestClient, path: str) -> dict[str, str]:
    return {"csrf": _csrf(client)} | FORMS.get(path.split("?")[0], {})


FORMS = {
    "/staff/issue": {"procedure": "1.001193", "counter": "Q1"},
    "/staff/paper": {"code": f"{A}-261125-0001", "score": "4", "filled_on": "2026-11-25"},
    "/reports/quarterly": {"quarter": "current"},
    "/follow-up/ID/assign": {"version": "0", "assignee": "lan-a"},
}
# Every unit page, as (login, method, path); ID is the other commune's rating.
OTHER_UNIT = [
    ("head-a", "GET", "/dashboard"),
    ("head-a", "GET", "/follow-up"),
    ("head-a", "GET", "/follow-up/feed?after=2026-01-01T00:00:00%2B00:00"),
    ("head-a", "GET", "/follow-up/ID"),
    ("head-a", "POST", "/follow-up/ID/assign"),
    ("head-a", "GET", "/dashboard/export.csv"),
    ("head-a", "GET", "/dashboard/export.xlsx"),
    ("head-a", "POST", "/reports/quarterly"),
    ("head-a", "GET", "/staff/paper"),
    ("head-a", "POST", "/staff/paper"),
    ("admin-a", "GET", "/staff"),
    ("admin-a", "POST", "/staff/issue"),
    ("admin-a", "GET", "/staff/receipts/CODE"),
    ("admin-a", "GET", "/admin/flagged-ratings"),
    ("lan-a", "GET", "/dashboard"),
    ("lan-a", "GET", "/staff"),
    ("lan-a", "POST", "/staff/issue"),
    ("lan-a", "GET", "/staff/paper"),
    ("head-b", "GET", "/dashboard"),
    ("head-b", "GET", "/follow-up/ID"),
    ("lan-b", "GET", "/staff"),
]


@pytest.mark.parametrize(("who", "method", "path"), OTHER_UNIT)
def test_another_units_pages_are_not_found(
    province: Province, logged_in: dict[str, TestClient], who: str, method: str, path: str
) -> None:
    client = logged_in[who]
    mine = LOGINS[who][2]
    other = B if mine == A else A
    where = path.replace("ID", province.ratings[other]).replace("CODE", f"{other}-261125-0001")
    url = where + ("&" if "?" in where else "?") + f"unit={other}"
    if method == "GET":
        answer: httpx.Response = client.get(url, follow_redirects=False)
    else:
        data = _form(client, path)
        answer = client.post(url, data=data, follow_redirects=False)
    assert answer.status_code == 404, answer.text[:300]
    # A unit the hub does not serve gets the same answer.
    unknown = where + ("&" if "?" in where else "?") + "unit=999.99.99.H99"
    assert client.get(unknown, follow_redirects=False).status_code in (404, 405)


def test_an_officer_issues_in_their_own_unit_only(
    province: Province, logged_in: dict[str, TestClient]
) -> None:
    lan_a = logged_in["lan-a"]
    page = lan_a.get("/staff")
    assert page.status_code == 200
    assert province.names[A] in page.text
    issued = lan_a.post(
        "/staff/issue",
        data={"csrf": csrf_of(page.text)} | FORMS["/staff/issue"],
        follow_redirects=False,
    )
    assert issued.status_code == 303
    where = urlsplit(issued.headers["location"])
    assert where.path.startswith(f"/staff/receipts/{A}-")
    assert lan_a.get(issued.headers["location"]).status_code == 200
    # B's officer issues into B, and the page keeps B in its links.
    lan_b = logged_in["lan-b"]
    page = lan_b.get("/staff")
    assert f'action="/staff/issue?unit={B}"' in page.text
    issued = lan_b.post(
        f"/staff/issue?unit={B}",
        data={"csrf": csrf_of(page.text)} | FORMS["/staff/issue"],
        follow_redirects=False,
    )
    assert issued.status_code == 303
    assert issued.headers["location"].startswith(f"/staff/receipts/{B}-")
    assert issued.headers["location"].endswith(f"?unit={B}")
    # A's receipt, asked about in B by B's officer of the same code: not found, not in their
    # list of the day, not theirs to mark returned.
    code = where.path.rsplit("/", 1)[1]
    assert lan_b.get(f"/staff/receipts/{code}?unit={B}").status_code == 404
    assert code not in lan_b.get("/staff").text
    assert code in lan_a.get("/staff").text
    returned = lan_b.post(
        f"/staff/return?unit={B}",
        data={"csrf": csrf_of(page.text), "scanned": code},
        follow_redirects=False,
    )
    assert returned.status_code == 303
    assert "error=" in returned.headers["location"]
    assert returned.headers["location"].endswith(f"&unit={B}")
    with province.sessions() as session:
        assert session.get(ReceiptRow, code).returned_at is None  # type: ignore[union-attr]


def test_the_hubs_dead_letters_are_the_province_admins(logged_in: dict[str, TestClient]) -> None:
    assert logged_in["tinh-admin"].get("/admin/dead-letters").status_code == 200
    assert logged_in["admin-a"].get("/admin/dead-letters").status_code == 403
    assert logged_in["admin-a"].get("/admin/flagged-ratings").status_code == 200


def test_a_citizen_rates_a_b_receipt_into_b(province: Province) -> None:
    ctx = current(province.app).for_unit(B)
    assert ctx is not None
    printed = ctx.receipts.issue(IssueRequest("Q1", "CB002", "1.001193"), print_slip=False)
    url = urlsplit(printed.receipt.url)
    code = str(printed.receipt.code)
    with TestClient(province.app) as citizen:
        page = citizen.get(f"{url.path}?{url.query}")
        assert page.status_code == 200, page.text[:300]
        assert province.names[B] in page.text
        form = {"csrf": csrf_of(page.text), "score": "5"}
        thanked = citizen.post(f"{url.path}?{url.query}", data=form)
        assert thanked.status_code == 200
    with province.sessions() as session:
        units = session.scalars(select(RatingRow.unit).where(RatingRow.dossier_code == code))
        assert list(units) == [B]
    assert (code, Stage.RECEPTION, B) in province.announced


def test_a_units_context_is_built_once_per_catalogue(province: Province) -> None:
    ctx = current(province.app)
    b = ctx.for_unit(B)
    assert b is not None
    assert b.unit.unit.code == B
    assert b.home.unit.code == A
    assert ctx.for_unit(B) is b  # the same desks on the next request
    assert b.follow_ups is b.follow_ups
    assert ctx.for_unit(A) is ctx
    assert ctx.for_unit("999.99.99.H99") is None
    home = b.for_unit(A)
    assert home is not None
    assert home.unit == ctx.unit
    # An edit of B's catalogue (the admin pages call changed()) gives B new desks.
    original = b.unit
    edited = original.model_copy(update={"unit": original.unit.model_copy(update={"name": "Mới"})})
    ctx.catalogue.changed(edited)
    try:
        again = ctx.for_unit(B)
        assert again is not None
        assert again is not b
        assert again.unit.unit.name == "Mới"
    finally:
        ctx.catalogue.changed(original)
