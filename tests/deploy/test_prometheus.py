"""The shipped Prometheus files (deploy/prometheus/) are ones Prometheus' own promtool accepts,
the alert rules fire as their unit tests say, and every metric they use is one a running hub
really exposes: a renamed metric would otherwise leave an alert that can never fire."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from hailong.settings import HubSettings, Unit
from hub.service import HubService
from hub.web.app import create_app
from tests.conftest import REPO, Broker
from tests.hub.web.conftest import WebApp, web_app  # noqa: F401 - a fixture

PROMETHEUS = REPO / "deploy" / "prometheus"
OPERATIONS = REPO / "docs" / "operations.md"
# Run where promtool is installed (Debian's `prometheus` package), and always in CI.
needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None and not os.environ.get("CI"), reason="promtool missing"
)
# Prometheus makes `up` itself for every scrape; no exporter exposes it.
SCRAPE_SERIES = {"up"}
PROMQL_WORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}


def _promtool(*args: str, cwd: Path = PROMETHEUS) -> str:
    done = subprocess.run(
        ["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression selects: identifiers left once strings, label
    matchers, ranges, grouping label lists, function calls and keywords are taken out."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    return set(re.findall(r"\b[a-zA-Z_:][\w:]*\b(?!\s*\()", expr)) - PROMQL_WORDS


def test_metric_names_are_read_out_of_promql() -> None:
    expr = (
        'max by (unit, kiosk) (hailong_kiosk_up{kiosk=~"a|b"}) == 0 and on () hour() >= 1 '
        "and on (unit) sum by (unit) (rate(hailong_acks_published_total[10m] offset 5m)) == 0"
    )
    assert metric_names(expr) == {"hailong_kiosk_up", "hailong_acks_published_total"}


@needs_promtool
def test_the_alert_rules_pass_promtool_check() -> None:
    assert "SUCCESS: 15 rules found" in _promtool("check", "rules", "alerts.yml")


@needs_promtool
def test_the_alert_rules_fire_and_stay_quiet_as_their_unit_tests_say() -> None:
    assert "SUCCESS" in _promtool("test", "rules", "alerts.test.yml")


@needs_promtool
def test_the_scrape_example_passes_promtool_check_config(tmp_path: Path) -> None:
    """Checked whole (rule files and token file included), with the token where it is here."""
    token = tmp_path / "hailong-hub.token"
    token.write_text("a token\n")
    config = (PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8")
    assert "/etc/prometheus/hailong-hub.token" in config
    (tmp_path / "prometheus.yml").write_text(
        config.replace("/etc/prometheus/hailong-hub.token", str(token))
    )
    shutil.copy(PROMETHEUS / "alerts.yml", tmp_path)
    assert "SUCCESS" in _promtool("check", "config", "prometheus.yml", cwd=tmp_path)


def test_every_alert_says_it_in_vietnamese_and_english_and_has_a_runbook() -> None:
    """The runbook is a section of docs/operations.md named after the alert."""
    headings = re.findall(r"^#+ (.+)$", OPERATIONS.read_text(encoding="utf-8"), re.MULTILINE)
    anchors = {re.sub(r"[^\w -]", "", h).strip().lower().replace(" ", "-") for h in headings}
    for rule in _rules():
        vietnamese, english = rule["annotations"]["summary"].split(" / ")
        assert not vietnamese.isascii(), rule["alert"]
        assert english.isascii(), rule["alert"]
        runbook = rule["annotations"]["runbook_url"]
        assert runbook == f"docs/operations.md#{rule['alert'].lower()}"
        assert runbook.partition("#")[2] in anchors, f"{rule['alert']}: no section in operations.md"
        assert rule["labels"]["severity"] in ("critical", "warning")


@pytest.mark.timeout(60)
def test_every_metric_an_alert_uses_is_exposed_by_a_running_hub(
    broker: Broker,
    hub_settings: HubSettings,
    unit: Unit,
    hub_sessions: sessionmaker[Session],
    web_app: WebApp,  # noqa: F811 - the fixture imported above
) -> None:
    used = set().union(*(metric_names(rule["expr"]) for rule in _rules())) - SCRAPE_SERIES
    settings = hub_settings.model_copy(update={"web": web_app.settings.web})
    with HubService(settings, unit, hub_sessions) as hub:
        assert hub.ready.wait(10)
        app = create_app(settings, unit, hub_sessions, ingest=hub)
        with TestClient(app) as client:
            auth = {"Authorization": f"Bearer {web_app.token}"}
            response = client.get("/metrics", headers=auth)
    assert response.status_code == 200
    exposed = set()
    for family in text_string_to_metric_families(response.text):
        exposed |= {sample.name for sample in family.samples}  # counters' names end in _total
        exposed.add(family.name + ("_total" if family.type == "counter" else ""))
    assert used - exposed == set()
    assert {"hailong_acks_published_total", "hailong_kiosk_buffer_depth"} <= used
