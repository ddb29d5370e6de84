"""A province on one hub (issue 17, "Performance"): 150 units, 1,500 kiosks, three years of
ratings on PostgreSQL; the province page, a unit's page and the trend page timed over HTTP, the
province's quarterly report built, and ratings acknowledged at 3 x the province's peak hour while
those pages are read.

    python bench/province.py [--quick] [--ratings N] [--units 150] [--kiosks 1500]
                             [--repeat N] [--load-seconds S] [--dir DIR] [--postgres URL]

The data set is ``bench/_province_data.py``'s (default 200,000 ratings for a first look; the goal
is stated at 50,000,000). It lives in a PostgreSQL cluster of the bench's own (``--dir``: kept
there and reused while its fingerprint matches; default: a temp folder) or in a database
``hailong_bench_province`` on the server ``--postgres`` names. The rollups are checked against
:func:`hub.store.rollups.add_to_rollups` up to 300,000 ratings.

What is timed (p50, p95, max of ``--repeat`` calls, request to last byte, on a real uvicorn server
on loopback, the app's clock on 15 December 2025 so this quarter and year are full; a page slow
enough to take over a minute is timed on fewer calls, at least three; a page that fails is
reported as FAILED and the run goes on):

* ``province page``: ``/province?period=quarter``, a province head's view of every unit, ranked;
* ``unit page``: ``/province/unit/<code>?period=quarter`` and ``/dashboard?unit=<code>`` as the
  busiest commune's head, and the home unit's ``/dashboard?period=quarter`` (the province's own
  centre, its busiest unit);
* ``trend page``: ``/trends`` (the whole province, 2025 against 2024) and a commune's;
* the province's quarterly report (2025-Q4): :class:`hub.exports.official_gather.ReportDesk`'s
  figures for every unit, the PDF and the XLSX, as ``hailong report quarterly --province`` makes
  them, against one commune's report;
* ack latency: ratings published by the example unit's three kiosks (paho, their own logins) at
  ``--load-factor`` (3) times the busiest hour the data set holds, through a real Mosquitto to a
  ``HubService`` child on this database, from publish to the ack back at the kiosk: first alone
  (the baseline), then while a reader loads the three pages back to back (their timings under
  load are printed too). The load run's ratings are removed afterwards.

Baselines measured in the same run: ``GET /healthz`` for the pages; the commune's report for the
province's; the quiet run for the acks. The machine may be shared: the figures are noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as day_time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import _common
import _pgcluster
import _province_data as data
import _province_plan as plan
import pages

if TYPE_CHECKING:
    import httpx

    from hailong.provision import SecretsLayout
    from hailong.settings import HubSettings, Unit

GOAL_PAGE_P95_MS = 100.0
GOAL_REPORT_S = 30.0
GOAL_ACK_S = 2.0
PASSWORD = "bench horse battery staple"
DATA_NOW = pages.DATA_NOW  # 15 December 2025: 2025-Q4 and 2025 are full
QUARTER = (date(2025, 10, 1), date(2026, 1, 1))
DATABASE = "hailong_bench_province"
LOAD_KIOSKS = ("kiosk-q1", "kiosk-q2", "kiosk-q3")  # the example unit's (config/unit.toml)


# -- the web side ----------------------------------------------------------------------------------


def web_settings(root: Path, url: str, home: str) -> HubSettings:
    """The hub's settings with the catalogue in the database (every generated unit)."""
    from hailong.settings import HubSection, HubSettings, MqttSettings, WebSettings
    from hub.web.accounts import init_web_secrets

    web = WebSettings(
        accounts_file=root / "web" / "accounts.json",
        api_tokens_file=root / "web" / "api-tokens.json",
        session_key_file=root / "web" / "session.key",
    )
    init_web_secrets(web.accounts_file, web.api_tokens_file, web.session_key_file)
    unused = root / "unused.password"
    unused.write_text("unused\n")
    return HubSettings(
        hub=HubSection(
            unit_file=_common.REPO / "config" / "unit.toml",
            database_url=url,
            public_base_url=_common.BASE_URL,
            catalogue="database",
            unit=home,
        ),
        mqtt=MqttSettings(host="127.0.0.1", port=1, username="hub", password_file=unused),
        receipts=_common.receipt_keys(_common.throwaway_receipt_keys(root / "keys")),
        web=web,
    )


def add_accounts(settings: HubSettings, province: str, commune: str) -> None:
    from hub.web.accounts import Accounts

    assert settings.web is not None
    accounts = Accounts(settings.web.accounts_file)
    accounts.add("province-head", PASSWORD, "head", unit=province)
    accounts.add("commune-head", PASSWORD, "head", unit=commune)


def log_in(client: httpx.Client, username: str) -> None:
    page = client.get("/staff/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    if token is None:
        raise RuntimeError("no CSRF token on the login page")
    form = {"username": username, "password": PASSWORD, "csrf": token.group(1)}
    if client.post("/staff/login", data=form).status_code >= 400:
        raise RuntimeError(f"{username} could not log in")


def page_list(commune: str) -> list[tuple[str, str, str]]:
    """(name, who, url): what the goal names, then what helps read it."""
    return [
        ("province page quarter", "province", "/province?period=quarter"),
        ("province page year", "province", "/province?period=year"),
        ("unit page quarter", "commune", f"/province/unit/{commune}?period=quarter"),
        ("unit page year", "commune", f"/province/unit/{commune}?period=year"),
        ("unit dashboard quarter", "commune", f"/dashboard?unit={commune}&period=quarter"),
        ("unit dashboard quarter (province centre)", "province", "/dashboard?period=quarter"),
        ("trend page province", "province", "/trends"),
        ("trend page unit", "commune", f"/trends?unit={commune}"),
    ]


LOAD_PAGES = ("province page quarter", "unit page quarter", "trend page province")


@dataclass
class Timings:
    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, ms: float) -> None:
        self.samples.setdefault(name, []).append(ms)

    def line(self, name: str, floor: float | None = None) -> str:
        values = self.samples[name]
        p50, p95 = _common.percentile(values, 50), _common.percentile(values, 95)
        ratio = f" ratio_p95={_common.ratio(p95, floor)}" if floor else ""
        return f"p50_ms={p50:.1f} p95_ms={p95:.1f} max_ms={max(values):.1f} n={len(values)}{ratio}"


def timed_get(client: httpx.Client, url: str, repeat: int, budget_s: float = 60.0) -> list[float]:
    """Milliseconds per GET, as ``pages.timed_get`` (two warm-up calls, non-200 stops the bench),
    but at most ``budget_s`` seconds of calls past the third: a page taking seconds at a large
    scale is reported from fewer calls instead of holding the run for an hour."""
    samples: list[float] = []
    started = time.monotonic()
    for n in range(repeat + 2):
        begun = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - begun) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        if n >= 2:
            samples.append(elapsed)
        if len(samples) >= 3 and time.monotonic() - started > budget_s:
            break
    return samples


def time_pages(
    clients: dict[str, httpx.Client], commune: str, repeat: int
) -> tuple[float, Timings]:
    floor_samples = pages.timed_get(clients["province"], "/healthz", repeat)
    floor = _common.percentile(floor_samples, 95)
    print(f"baseline GET /healthz: p50_ms={_common.percentile(floor_samples, 50):.2f} "
          f"p95_ms={floor:.2f} max_ms={max(floor_samples):.2f}")  # fmt: skip
    timings = Timings()
    for name, who, url in page_list(commune):
        try:
            samples = timed_get(clients[who], url, repeat)
        except RuntimeError as exc:  # a page broken now: said, and the others still timed
            print(f"{name}: FAILED ({exc})", flush=True)
            continue
        for ms in samples:
            timings.add(name, ms)
        print(f"{name}: {timings.line(name, floor)}", flush=True)
    return floor, timings


# -- the quarterly report --------------------------------------------------------------------------


def build_report(settings: HubSettings, home: Unit, code: str | None) -> tuple[float, int]:
    """Seconds to build the 2025-Q4 report (figures, PDF, XLSX) of the province (``code`` None)
    or of one unit, as ``hailong report quarterly`` does; and the bytes written."""
    from hailong.contract.clock import UNIT_ZONE
    from hub.catalogue import Catalogue, UnitFile
    from hub.domain.indices import parse_period
    from hub.exports.csv_xlsx import official_xlsx
    from hub.exports.official import letterhead, place_of
    from hub.exports.official_gather import ReportDesk
    from hub.exports.official_pdf import report_pdf
    from hub.store.db import make_engine, session_factory

    started = time.perf_counter()
    engine = make_engine(settings.hub.database_url)
    try:
        sessions = session_factory(engine)
        catalogue = Catalogue(settings, sessions, home, UnitFile(settings.hub.unit_file))
        desk = ReportDesk(catalogue.tree(), catalogue.unit, sessions, None)
        scope: Literal["unit", "province"] = "province" if code is None else "unit"
        target = desk.province_code() if code is None else code
        node = desk.tree.get(target)
        assert node is not None
        now = datetime.combine(date(2026, 1, 5), day_time(12), UNIT_ZONE)
        head = letterhead(
            issuer=node.name,
            symbol="BC-UBND",
            place=place_of(node.name) or "Thành Bình",
            day=now.date(),
            signer_title="Chủ tịch",
            authority=desk.authority(target),
            number="",
            recipients=[],
            signer_for="",
        )
        report = desk.report(scope, target, parse_period("2025Q4"), now, head)
        size = len(report_pdf(report)) + len(official_xlsx(report))
    finally:
        engine.dispose()
    return time.perf_counter() - started, size


# -- ratings under load ----------------------------------------------------------------------------


class Publisher:
    """The example unit's kiosks on paho with their own logins: publish ratings at a steady rate
    and note when each one's ack comes back."""

    def __init__(self, layout: SecretsLayout, port: int) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        from hailong.contract import topics

        self.lock = threading.Lock()
        self.sent: dict[str, float] = {}
        self.acked: dict[str, float] = {}
        self.outcomes: dict[str, int] = {}
        self.seq = {k: 0 for k in LOAD_KIOSKS}
        self.clients: dict[str, Any] = {}
        ready = threading.Semaphore(0)
        for kiosk in LOAD_KIOSKS:
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=kiosk)
            client.username_pw_set(kiosk, layout.mqtt_password_file(kiosk).read_text().strip())
            client.on_message = self._on_ack
            client.on_subscribe = lambda *_a: ready.release()
            client.connect("127.0.0.1", port, keepalive=30)
            client.subscribe(topics.acks(_common.UNIT_CODE, kiosk), qos=1)
            client.loop_start()
            self.clients[kiosk] = client
        for _ in LOAD_KIOSKS:
            if not ready.acquire(timeout=15):
                raise RuntimeError("a kiosk could not subscribe to its acks")

    def _on_ack(self, _c: Any, _u: object, message: Any) -> None:
        now = time.perf_counter()
        with self.lock:
            for result in json.loads(message.payload)["results"]:
                self.acked.setdefault(result["id"], now)
                self.outcomes[result["outcome"]] = self.outcomes.get(result["outcome"], 0) + 1

    def run(self, rate: float, seconds: float) -> list[float]:
        """Publish ``rate`` ratings a second for ``seconds``, wait for the acks (at most 30 s
        after the last); the latency of each, in seconds (missing acks count as infinite)."""
        from _fleet import make_rating

        from hailong.contract import topics

        ids: list[str] = []
        total = max(1, round(rate * seconds))
        started = time.perf_counter()
        for n in range(total):
            kiosk = LOAD_KIOSKS[n % len(LOAD_KIOSKS)]
            self.seq[kiosk] += 1
            rating = make_rating(kiosk, self.seq[kiosk], datetime.now(UTC))
            key = str(rating.id)
            with self.lock:
                self.sent[key] = time.perf_counter()
            self.clients[kiosk].publish(
                topics.ratings(_common.UNIT_CODE, kiosk), rating.to_bytes(), qos=1
            )
            ids.append(key)
            _common.check_stop()
            if n + 1 < total:
                time.sleep(max(0.0, started + (n + 1) / rate - time.perf_counter()))
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline:
            with self.lock:
                if all(i in self.acked for i in ids):
                    break
            time.sleep(0.05)
        with self.lock:
            return [self.acked.get(i, float("inf")) - self.sent[i] for i in ids]

    def close(self) -> None:
        for client in self.clients.values():
            client.loop_stop()
            client.disconnect()


def clean_load_rows(url: str) -> None:
    """Remove what the load run stored (the example unit's ratings and their rollups): the data
    set stays as generated, and the next run's dossier codes are free again."""
    import psycopg

    with psycopg.connect(_pgcluster.libpq(url)) as conn:
        for table in ("follow_up_events", "follow_ups"):
            conn.execute(
                f"DELETE FROM {table} WHERE rating_id IN (SELECT id FROM ratings WHERE unit = %s)",
                (_common.UNIT_CODE,),
            )
        for table in ("ratings", "dead_letters", *data.ROLLUP_TABLES):
            if table == "dead_letters":
                conn.execute("DELETE FROM dead_letters WHERE kiosk = ANY(%s)", (list(LOAD_KIOSKS),))
            else:
                conn.execute(f"DELETE FROM {table} WHERE unit = %s", (_common.UNIT_CODE,))


@contextlib.contextmanager
def ingest_hub(root: Path, url: str) -> Iterator[tuple[SecretsLayout, int]]:
    """Mosquitto with the example unit's users, and a HubService child writing to ``url``."""
    import _fleet

    layout = _common.throwaway_secrets(root / "secrets")
    with _common.mosquitto(root, layout) as broker:
        hub = _fleet.Hub(root, layout, broker.port, _common.REPO / "config" / "unit.toml")
        hub.url = url
        hub.base[hub.base.index("--db") + 1] = url
        hub.start()
        try:
            yield layout, broker.port
        finally:
            hub.stop()


def read_pages_while(
    stop: threading.Event, clients: dict[str, httpx.Client], commune: str, timings: Timings
) -> None:
    wanted = {name: (who, url) for name, who, url in page_list(commune) if name in LOAD_PAGES}
    while not stop.is_set():
        for name, (who, url) in wanted.items():
            started = time.perf_counter()
            response = clients[who].get(url)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code} under load")
            timings.add(name, (time.perf_counter() - started) * 1000)


def latency_line(latencies: list[float]) -> str:
    finite = [x for x in latencies if x != float("inf")]
    lost = len(latencies) - len(finite)
    if not finite:
        return f"n={len(latencies)} unacked={lost}"
    ms = [x * 1000 for x in finite]
    return (
        f"n={len(latencies)} unacked={lost} p50_ms={_common.percentile(ms, 50):.1f} "
        f"p95_ms={_common.percentile(ms, 95):.1f} max_ms={max(ms):.1f}"
    )


def under_load(
    root: Path,
    url: str,
    clients: dict[str, httpx.Client],
    commune: str,
    rate: float,
    seconds: float,
) -> tuple[float, float]:
    """(p95 of the quiet run's acks, worst ack under page load), in seconds."""
    clean_load_rows(url)
    try:
        with ingest_hub(root / "load", url) as (layout, port):
            publisher = Publisher(layout, port)
            try:
                publisher.run(rate, min(2.0, seconds))  # warm-up: connections, the hub's caches
                quiet = publisher.run(rate, seconds)
                print(f"acks quiet (baseline): rate_per_s={rate:.2f} {latency_line(quiet)}")
                stop = threading.Event()
                timings = Timings()
                errors: list[BaseException] = []

                def reader() -> None:
                    try:
                        read_pages_while(stop, clients, commune, timings)
                    except BaseException as exc:  # reported below, not lost in the thread
                        errors.append(exc)

                thread = threading.Thread(target=reader, daemon=True)
                thread.start()
                try:
                    loaded = publisher.run(rate, seconds)
                finally:
                    stop.set()
                    thread.join(timeout=120)
                if errors:
                    raise errors[0]
            finally:
                publisher.close()
    finally:
        clean_load_rows(url)
    quiet_p95 = _common.percentile(quiet, 95) if quiet else float("inf")
    loaded_p95 = _common.percentile(loaded, 95) if loaded else float("inf")
    print(
        f"acks while pages are read: rate_per_s={rate:.2f} {latency_line(loaded)} "
        f"ratio_p95={_common.ratio(loaded_p95, quiet_p95)}"
    )
    for name in LOAD_PAGES:
        if name in timings.samples:
            print(f"{name} under load: {timings.line(name)}")
    return quiet_p95, max(loaded) if loaded else float("inf")


# -- the run ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def server(args: argparse.Namespace) -> Iterator[tuple[str, Path]]:
    """(URL of the database, a work folder): on ``--postgres``, or on the bench's own cluster in
    ``--dir`` (kept) or in a temp folder (removed)."""
    with contextlib.ExitStack() as stack:
        if args.dir is not None:
            args.dir.mkdir(parents=True, exist_ok=True)
            root = args.dir
        else:
            root = stack.enter_context(_common.temp_dir("hailong-bench-province-"))
            root.chmod(0o755)  # the server runs as another user (postgres) when we are root
        work = stack.enter_context(_common.temp_dir("work-", root))
        base = args.postgres or stack.enter_context(_pgcluster.cluster(root / "pg"))
        yield _pgcluster.ensure_database(base, DATABASE), work


def run(args: argparse.Namespace) -> int:
    import httpx

    total = args.ratings or (20_000 if args.quick else 200_000)
    units = args.units or (12 if args.quick else 150)
    kiosks = args.kiosks or (40 if args.quick else 1500)
    repeat = args.repeat or (3 if args.quick else 30)
    seconds = args.load_seconds or (3.0 if args.quick else 60.0)
    province = plan.plan_province(units, kiosks)
    commune = province.busiest_commune()
    verdicts: list[str] = []
    with server(args) as (url, work):
        generated = data.prepare(url, province, total, reuse=not args.fresh)
        print(data.describe(generated))
        sizes = " ".join(f"{name}_mb={mb:.1f}" for name, mb in data.sizes_mb(url).items())
        print(f"database: units={units} kiosks={province.kiosks} {sizes}")
        for table in data.unfilled_rollups():
            print(f"note: {table} is left empty: the generator does not fill it yet")
        if total <= 300_000:
            ok, what = data.check_rollups(url)
            print(f"check rollups = add_to_rollups ({what}): {'ok' if ok else 'DIFFERENT'}")
            if not ok:
                return 1
        settings = web_settings(work / "web", url, province.root.code)
        add_accounts(settings, province.root.code, commune.code)
        print(f"# {total:,} ratings, {units} units, {province.kiosks} kiosks; measured unit "
              f"{commune.code} (busiest commune); {repeat} calls each; clock {DATA_NOW:%Y-%m-%d}")  # fmt: skip
        with contextlib.ExitStack() as stack:
            base = stack.enter_context(pages.served(settings, province.root.unit))
            clients = {
                who: stack.enter_context(httpx.Client(base_url=base, timeout=120))
                for who in ("province", "commune")
            }
            log_in(clients["province"], "province-head")
            log_in(clients["commune"], "commune-head")
            _floor, timings = time_pages(clients, commune.code, repeat)
            goal_pages = [
                n for n, _, _ in page_list(commune.code) if "quarter" in n or "trend" in n
            ]
            worst = max(
                _common.percentile(timings.samples[n], 95) if n in timings.samples else math.inf
                for n in goal_pages
            )
            verdicts.append(_verdict(f"pages p95 < {GOAL_PAGE_P95_MS:.0f} ms",
                                     worst < GOAL_PAGE_P95_MS, f"worst {worst:.1f} ms"))  # fmt: skip

            one, one_size = build_report(settings, province.root.unit, commune.code)
            print(f"report quarterly unit (baseline): seconds={one:.2f} bytes={one_size}")
            whole, size = build_report(settings, province.root.unit, None)
            print(f"report quarterly province: seconds={whole:.2f} bytes={size} "
                  f"ratio={_common.ratio(whole, one)}")  # fmt: skip
            verdicts.append(_verdict(f"province report < {GOAL_REPORT_S:.0f} s",
                                     whole < GOAL_REPORT_S, f"{whole:.1f} s"))  # fmt: skip

            if not args.no_load:
                peak = max(data.peak_hour(url), 1)
                rate = max(args.load_factor * peak / 3600, args.min_rate)
                print(f"# peak hour in the data: {peak} ratings; load {args.load_factor:g} x = "
                      f"{args.load_factor * peak / 3600:.2f}/s (at least {args.min_rate:g}/s): "
                      f"{rate:.2f}/s for {seconds:g} s")  # fmt: skip
                _quiet, worst_ack = under_load(work, url, clients, commune.code, rate, seconds)
                verdicts.append(_verdict(f"acks < {GOAL_ACK_S:.0f} s under load",
                                         worst_ack < GOAL_ACK_S, f"worst {worst_ack:.2f} s"))  # fmt: skip
    for line in verdicts:
        print(line)
    return 0


def _verdict(goal: str, met: bool, detail: str) -> str:
    return f"goal: {goal} -> {'met' if met else 'NOT met'} ({detail})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 ratings, 12 units: smoke")
    parser.add_argument("--ratings", type=int, help="ratings in the data set (default 200,000)")
    parser.add_argument("--units", type=int, help="units in the province (default 150)")
    parser.add_argument("--kiosks", type=int, help="kiosks in the province (default 1,500)")
    parser.add_argument("--repeat", type=int, help="timed calls per page (default 30)")
    parser.add_argument("--load-seconds", type=float, help="seconds of each ack run (default 60)")
    parser.add_argument("--load-factor", type=float, default=3.0, help="x the peak hour")
    parser.add_argument(
        "--min-rate", type=float, default=5.0, help="ratings/s at least (small data sets)"
    )
    parser.add_argument("--no-load", action="store_true", help="skip the ack latency runs")
    parser.add_argument("--dir", type=Path, help="keep the PostgreSQL cluster here, for reuse")
    parser.add_argument("--postgres", help="use this server (postgresql+psycopg://...) instead")
    parser.add_argument("--fresh", action="store_true", help="regenerate even if it matches")
    args = parser.parse_args()
    _common.sigterm_as_interrupt()
    return run(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
