"""``hailong demo``: the whole system on one machine, on the example unit in ``config/``.

A broker and the hub run as child processes; the kiosk runs in this process's Qt main thread with a
simulated counter beside it that issues a receipt every few seconds, prints it to the counter's file
printer (and a PNG of the slip) and hands it to the kiosk as a scan. A person at the screen then taps
a face; without a display an autopilot citizen taps one, so the demo also runs headless. The counter
waits while someone is using the kiosk (``KioskController.in_use``), so a person trying the demo by
hand is never interrupted by the next simulated citizen. At the
end it prints the figures and the quarter's official indices, under the criteria sets in
``criteria/`` beside the hub configuration (``config/criteria/``), as an installed hub reads them.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from hailong.broker import prepare_broker
from hailong.contract.scale import Score
from hailong.provision import var_dir
from hailong.settings import HubSettings, Unit, load_hub, load_kiosk, load_unit

if TYPE_CHECKING:
    from kiosk.app import Kiosk

log = logging.getLogger("hailong.demo")

# A plausible day: most citizens satisfied, a few not (so the follow-up path has something to show).
_SCORE_WEIGHTS = {
    Score.VERY_SATISFIED: 45,
    Score.SATISFIED: 35,
    Score.NEUTRAL: 10,
    Score.DISSATISFIED: 7,
    Score.VERY_DISSATISFIED: 3,
}


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class CounterStep(Enum):
    ISSUE = "issue"  # print the next citizen's slip
    HAND_OVER = "hand_over"  # that citizen reaches the kiosk and scans it


@dataclass
class CounterPace:
    """When the simulated counter serves its next citizen (pure: the caller gives the time).

    A slip every ``every`` seconds at most; its citizen reaches the kiosk ``walk`` seconds later.
    Nobody is sent to a kiosk in use: the next slip waits until the kiosk has been free for
    ``settle`` seconds (a person who just rated by hand reads the thanks and steps away), and a
    slip already printed waits with its citizen until then.
    """

    every: float
    walk: float = 1.5
    settle: float = 3.0
    next_issue: float = 0.0
    slip: str | None = None
    slip_at: float = 0.0
    free_since: float | None = None

    def __post_init__(self) -> None:
        if self.every <= 0 or self.walk < 0 or self.settle < 0:
            raise ValueError("every must be positive, walk and settle not negative")

    def step(self, now: float, in_use: bool) -> CounterStep | None:
        """What the counter does now; after ISSUE, tell :meth:`issued` the slip's code."""
        if in_use:
            self.free_since = None
            return None
        if self.free_since is None:
            self.free_since = now
        if now - self.free_since < self.settle:
            return None
        if self.slip is not None:
            return CounterStep.HAND_OVER if now >= self.slip_at else None
        if now >= self.next_issue:
            self.next_issue = now + self.every
            return CounterStep.ISSUE
        return None

    def issued(self, slip: str, now: float) -> None:
        self.slip, self.slip_at = slip, now + self.walk

    def hand_over(self) -> str:
        """The slip the waiting citizen scans now; the kiosk is theirs."""
        if self.slip is None:
            raise RuntimeError("no slip is waiting")
        slip, self.slip = self.slip, None
        self.free_since = None
        return slip


@dataclass
class SimulatedCounter:
    """The pace wired to a kiosk through what any caller may use: whether the kiosk is in use,
    and a scan. ``poll`` runs on a Qt timer; ``clock`` is monotonic seconds."""

    pace: CounterPace
    issue: Callable[[], str]  # prints the next slip, returns what its QR holds
    in_use: Callable[[], bool]
    scan: Callable[[str], None]
    on_scanned: Callable[[], object] = lambda: None
    clock: Callable[[], float] = time.monotonic

    def poll(self) -> CounterStep | None:
        now = self.clock()
        step = self.pace.step(now, self.in_use())
        if step is CounterStep.ISSUE:
            self.pace.issued(self.issue(), now)
        elif step is CounterStep.HAND_OVER:
            self.scan(self.pace.hand_over())
            self.on_scanned()
        return step


def run_demo(
    hub_config: Path,
    kiosk_config: Path,
    every: float,
    autopilot: bool | None,
    duration: float | None,
) -> int:
    settings = load_hub(hub_config)
    unit = load_unit(settings.hub.unit_file)
    kiosk_settings = load_kiosk(kiosk_config)
    if not _has_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        if autopilot is None:
            autopilot = True
            print("No display: the kiosk runs off-screen and a simulated citizen taps the faces.")
    with prepare_broker(settings, unit) as broker:
        print(f"Broker: 127.0.0.1:{broker.port} (users and ACLs in {broker.files.conf.parent})")
        if settings.web is not None:
            from hub.web.accounts import init_web_secrets

            web = settings.web
            init_web_secrets(web.accounts_file, web.api_tokens_file, web.session_key_file)
            print(
                f"Staff page: http://{settings.web.bind}:{settings.web.port}/staff "
                f"(login admin, password in {settings.web.accounts_file.parent / 'admin.password'})"
            )
        # Migrated here, before the hub starts: the hub and this process's receipt desk both open
        # the database, and two processes migrating a new SQLite file at once collide (a first
        # `make demo` failed so: "index ... already exists").
        from hub.store.db import make_engine

        make_engine(settings.hub.database_url).dispose()
        hub = subprocess.Popen(
            [sys.executable, "-m", "hailong", "hub", "--config", str(hub_config)]
        )
        try:
            return _run_kiosk_with_counter(
                settings, unit, kiosk_settings, every, bool(autopilot), duration
            )
        finally:
            hub.send_signal(signal.SIGTERM)
            try:
                hub.wait(timeout=10)
            except subprocess.TimeoutExpired:
                hub.kill()
            _print_summary(settings, unit)
            _print_indices(hub_config, settings, unit)


def _run_kiosk_with_counter(
    settings: HubSettings,
    unit: Unit,
    kiosk_settings: object,
    every: float,
    autopilot: bool,
    duration: float | None,
) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from hailong.settings import KioskSettings
    from hub.receipts.desk import IssueRequest, ReceiptDesk
    from hub.receipts.slip import render_slip
    from hub.store.db import make_engine, session_factory
    from kiosk.app import build_kiosk

    assert isinstance(kiosk_settings, KioskSettings)
    app = QApplication.instance() or QApplication(sys.argv)
    kiosk = build_kiosk(kiosk_settings)
    kiosk.window.resize(1280, 800)
    kiosk.window.show()
    desk = ReceiptDesk(settings, unit, session_factory(make_engine(settings.hub.database_url)))
    counter = kiosk_settings.kiosk.counter or unit.counters[0].code
    officers = [o.code for o in unit.officers if o.counter == counter] or [unit.officers[0].code]
    slips = var_dir(settings) / "demo" / "slips"
    slips.mkdir(parents=True, exist_ok=True)
    rng = random.Random()  # noqa: S311 (a simulation, not a secret)

    def issue_slip() -> str:
        ask = IssueRequest(counter, rng.choice(officers), rng.choice(unit.procedures).code)
        printed = desk.issue(ask)
        issued = printed.receipt
        if printed.error is not None:
            print(f"Printer: {printed.error.message_vi} / {printed.error.message_en}")
        printer = settings.printers.get(counter)
        png = slips / f"{issued.claims.code}.png"
        render_slip(issued, unit, paper_width_mm=printer.paper_width_mm if printer else 80).save(
            png
        )
        print(f"Counter {counter}: receipt {issued.claims.code} issued, slip {png}")
        return issued.url

    def autopilot_citizen() -> None:
        score = rng.choices(list(_SCORE_WEIGHTS), weights=list(_SCORE_WEIGHTS.values()))[0]
        QTimer.singleShot(2000, lambda: kiosk.controller.rate(score))
        for step in range(1, 8):  # then through reasons, comment and survey, if asked
            QTimer.singleShot(2000 + 400 * step, lambda: _answer_follow_up(kiosk, rng))

    simulated = SimulatedCounter(
        CounterPace(every, settle=1.0 if autopilot else 3.0),
        issue=issue_slip,
        in_use=kiosk.controller.in_use,
        scan=kiosk.controller.submit_code,
        on_scanned=autopilot_citizen if autopilot else lambda: None,
    )
    counter_timer = QTimer()
    counter_timer.timeout.connect(simulated.poll)
    counter_timer.start(250)
    # Let Python see Ctrl-C while Qt's loop runs.
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(200)
    if duration:
        QTimer.singleShot(int(duration * 1000), app.quit)
    print("Demo running. Ctrl-C to stop.")
    try:
        return app.exec()
    finally:
        kiosk.close()


def _answer_follow_up(kiosk: Kiosk, rng: random.Random) -> None:
    """The simulated citizen answers whatever follow-up screen is showing."""
    from kiosk.domain.screen import Screen

    controller, session = kiosk.controller, kiosk.controller.session
    if session.screen is Screen.REASONS:
        reasons = controller.catalogue.reasons if controller.catalogue else ()
        for reason in rng.sample(list(reasons), k=min(len(reasons), rng.randint(1, 2))):
            controller.toggle_reason(reason.code)
        controller.finish_reasons()
    elif session.screen is Screen.COMMENT:
        controller.comment_done(rng.choice(["", "Chờ lâu quá", "Cần hướng dẫn rõ hơn"]), "", False)
    elif session.screen is Screen.SURVEY:
        controller.answer_survey(
            rng.choice([Score.SATISFIED, Score.VERY_SATISFIED, Score.NEUTRAL, None])
        )


def _print_summary(settings: HubSettings, unit: Unit) -> None:
    from hub.report import DIMENSIONS, Scope, format_summary, summary
    from hub.store.db import make_engine, session_factory

    sessions = session_factory(make_engine(settings.hub.database_url))
    with sessions() as session:
        tables = {dim: summary(session, Scope(unit), dim) for dim in DIMENSIONS}
    print(format_summary(unit, tables))


def _print_indices(hub_config: Path, settings: HubSettings, unit: Unit) -> None:
    """This quarter's official indices, from the criteria beside ``hub_config`` (the same folder
    ``hailong report indices`` reads); a missing or broken folder is said, not raised: the demo's
    ratings are safe either way."""
    from datetime import UTC, datetime

    from hailong.contract.clock import unit_day
    from hailong.settings import ConfigError
    from hub.domain.indices import parse_period
    from hub.indices import IndicesDesk, NoCriteria, criteria_folder, format_indices, load_criteria
    from hub.store.db import make_engine, session_factory

    folder = criteria_folder(hub_config)
    try:
        book = load_criteria(folder)
    except ConfigError as exc:
        print(f"Chỉ số chính thức: không có bộ tiêu chí / Official indices: no criteria ({exc})")
        return
    now = datetime.now(UTC)
    today = unit_day(now)
    quarter = parse_period(f"{today.year}Q{(today.month - 1) // 3 + 1}")
    desk = IndicesDesk(session_factory(make_engine(settings.hub.database_url)), book)
    try:
        indices = desk.report((unit.unit.code,), quarter, now)
    except NoCriteria as exc:
        print(f"Chỉ số chính thức / Official indices: {exc}")
        return
    names = {unit.unit.code: unit.unit.name, **{o.code: o.name for o in unit.officers}}
    print(format_indices(indices, names))
