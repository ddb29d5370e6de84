"""Page and API latency on a hub holding 10 million ratings (3 years, 50 units), as a unit head
and an API client meet it, against the web framework's own floor measured in the same run.

    python bench/pages.py [--quick] [--ratings N] [--repeat N] [--dir DIR --reuse]

The database is ``bench/dataset.py``'s, as ``bench/summary.py`` uses it (same cache: ``--dir`` + ``--reuse`` skip
the four minutes of generating it). The hub's web app (``hub.web.app.create_app``) runs on a real
uvicorn server on loopback, for the busiest unit; a client logged in as the unit head times each
page over HTTP, from request to last byte:

* the dashboard for this month, this quarter and this year (headlines, the tables, the analysis,
  the fleet), with the app's clock in the data set's last month, so every period is full;
* the follow-up list, the public summary, ``/metrics`` (with a token), one receipt by the API;
* the CSV export of the quarter.

Baseline: ``GET /healthz`` (routing, middleware and HTTP, no database). The goal (issue 6) is a
p95 under 100 ms for every page.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import _common
import dataset

if TYPE_CHECKING:
    import httpx

    from hailong.settings import HubSettings, Unit

GOAL_P95_MS = 100.0
# The generated ratings end on 31 December 2025: the pages see "today" as the middle of its last
# month, so this month, quarter and year are full periods (with the previous ones to compare).
DATA_NOW = datetime(2025, 12, 15, 3, 0, tzinfo=UTC)
PASSWORD = "bench horse battery staple"


def web_settings(root: Path, db: Path) -> HubSettings:
    from hailong.settings import HubSection, HubSettings, MqttSettings, WebSettings
    from hub.web.accounts import Accounts, init_web_secrets

    web = WebSettings(
        accounts_file=root / "web" / "accounts.json",
        api_tokens_file=root / "web" / "api-tokens.json",
        session_key_file=root / "web" / "session.key",
    )
    init_web_secrets(web.accounts_file, web.api_tokens_file, web.session_key_file)
    Accounts(web.accounts_file).add("head", PASSWORD, "head")
    unused = root / "unused.password"
    unused.write_text("unused\n")
    return HubSettings(
        hub=HubSection(
            unit_file=_common.REPO / "config" / "unit.toml",
            database_url=f"sqlite:///{db}",
            public_base_url=_common.BASE_URL,
        ),
        mqtt=MqttSettings(host="127.0.0.1", port=1, username="hub", password_file=unused),
        receipts=_common.receipt_keys(_common.throwaway_receipt_keys(root / "keys")),
        web=web,
    )


@contextlib.contextmanager
def served(settings: HubSettings, unit: Unit) -> Iterator[str]:
    """The hub's web app on a real uvicorn server on a free loopback port."""
    import uvicorn

    from hailong.broker import free_port
    from hub.store.db import make_engine, session_factory
    from hub.web.app import create_app

    sessions = session_factory(make_engine(settings.hub.database_url))
    app = create_app(settings, unit, sessions, clock=lambda: DATA_NOW)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def add_receipt(db: Path, unit: Unit) -> None:
    """One receipt in the register for the API lookup (the generator writes ratings only)."""
    from datetime import UTC, datetime

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from hub.store.models import ReceiptRow

    code = f"{unit.unit.code}-000101-0001"
    engine = create_engine(f"sqlite:///{db}")
    with Session(engine) as session, session.begin():
        if session.get(ReceiptRow, code) is None:
            session.add(
                ReceiptRow(
                    dossier_code=code, unit=unit.unit.code, procedure=unit.procedures[0].code,
                    counter=unit.counters[0].code, officer=unit.officers[0].code, key_id="k1",
                    url=f"{_common.BASE_URL}/r/{code}", issued_at=datetime.now(UTC), printed=True,
                )
            )  # fmt: skip
    engine.dispose()


def log_in(client: httpx.Client) -> None:
    import re

    page = client.get("/staff/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    if token is None:
        raise RuntimeError("no CSRF token on the login page")
    form = {"username": "head", "password": PASSWORD, "csrf": token.group(1)}
    if client.post("/staff/login", data=form).status_code >= 400:
        raise RuntimeError("the head could not log in")


def timed_get(client: httpx.Client, url: str, repeat: int, **kwargs: object) -> list[float]:
    """Milliseconds per GET (two warm-up calls first); a non-200 answer stops the bench."""
    samples = []
    for n in range(repeat + 2):
        started = time.perf_counter()
        response = client.get(url, **kwargs)  # type: ignore[arg-type]
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        if n >= 2:
            samples.append(elapsed)
    return samples


def pages(unit: Unit, token: str) -> list[tuple[str, str, dict[str, object]]]:
    code = unit.unit.code
    bearer = {"headers": {"Authorization": f"Bearer {token}"}}
    return [
        ("dashboard month", "/dashboard?period=month", {}),
        ("dashboard quarter", "/dashboard?period=quarter", {}),
        ("dashboard year", "/dashboard?period=year", {}),
        ("follow-up list", "/follow-up", {}),
        ("public summary", "/public", {}),
        ("metrics", "/metrics", bearer),
        ("api receipt lookup", f"/api/v1/receipts/{code}-000101-0001", bearer),
        ("export csv quarter", "/dashboard/export.csv?period=quarter&dimension=all", {}),
    ]


def run(args: argparse.Namespace) -> int:
    import httpx

    total = args.ratings or (200_000 if args.quick else 10_000_000)
    repeat = args.repeat or (10 if args.quick else 40)
    plans = dataset.plan_units(args.units)
    unit = dataset.measured_units(plans)[0]
    with dataset.database_dir(args) as root:
        db = root / "hub.db"
        generated = dataset.prepare(db, total, plans, args.reuse)
        dataset.print_generation(db, generated)
        settings = web_settings(root / f"web-{time.monotonic_ns()}", db)
        add_receipt(db, unit)
        assert settings.web is not None
        token = (settings.web.api_tokens_file.parent / "one-stop.token").read_text().strip()
        with served(settings, unit) as base, httpx.Client(base_url=base, timeout=60) as client:
            log_in(client)
            floor = _common.percentile(timed_get(client, "/healthz", repeat), 95)
            print(f"# {unit.unit.code}: {total} ratings in the database; {repeat} calls each")
            print(f"baseline GET /healthz: p95_ms={floor:.2f}")
            worst = 0.0
            for name, url, extra in pages(unit, token):
                samples = timed_get(client, url, repeat, **extra)
                p50 = _common.percentile(samples, 50)
                p95 = _common.percentile(samples, 95)
                worst = max(worst, p95)
                print(
                    f"{name}: p50_ms={p50:.1f} p95_ms={p95:.1f} "
                    f"ratio_p95={_common.ratio(p95, floor)}"
                )
    verdict = "met" if worst < GOAL_P95_MS else "NOT met"
    print(f"goal: every page p95 < {GOAL_P95_MS:.0f} ms -> {verdict} (worst {worst:.1f} ms)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200,000 ratings, 10 calls each")
    parser.add_argument("--ratings", type=int, help="ratings in the data set (default 10,000,000)")
    parser.add_argument("--units", type=int, default=50, help="units in the data set")
    parser.add_argument("--repeat", type=int, help="timed calls per page (default 40)")
    parser.add_argument("--dir", type=Path, help="keep the database here (default: a temp folder)")
    parser.add_argument("--reuse", action="store_true", help="use the database in --dir")
    args = parser.parse_args()
    if args.reuse and args.dir is None:
        parser.error("--reuse needs --dir")
    _common.sigterm_as_interrupt()
    return run(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
