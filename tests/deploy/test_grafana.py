"""The example Grafana files (deploy/grafana/) cannot rot: every panel's SQL, and the unit
variable's, runs on a real PostgreSQL with data, as the read-only role the data source names,
with Grafana's macros expanded as Grafana would; the panels use the provisioned data source, and
the data source holds no password."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import yaml
from sqlalchemy.engine import make_url

from hub.store.db import make_engine, session_factory
from hub.store.models import FollowUpRow
from hub.store.readonly import create_readonly_role
from tests.conftest import REPO
from tests.support.dossier_feed import STORED, UNIT, seed

GRAFANA = REPO / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "hailong-satisfaction.json"
DATASOURCE = GRAFANA / "provisioning" / "datasources" / "hailong.yaml"
# The dashboard's time range in the test: the seeded ratings' year.
FROM, TO = "2026-01-01T00:00:00Z", "2026-12-31T23:59:59Z"


def _datasource() -> dict[str, Any]:
    (source,) = yaml.safe_load(DATASOURCE.read_text("utf-8"))["datasources"]
    return dict(source)


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text("utf-8"))
    return loaded


def expand(sql: str) -> str:
    """Grafana's macros and the ``$unit`` variable, as Grafana's PostgreSQL source expands them."""
    sql = re.sub(r"\$__timeFilter\(([^)]+)\)", rf"\1 BETWEEN '{FROM}' AND '{TO}'", sql)
    sql = sql.replace("$__timeFrom()", f"'{FROM}'").replace("$__timeTo()", f"'{TO}'")
    sql = sql.replace("$unit", f"'{UNIT}'")
    assert "$" not in sql, f"a macro the test does not know: {sql}"
    return sql


def test_the_data_source_is_the_read_only_role_without_a_password() -> None:
    source = _datasource()
    assert source["user"] == "hailong_bi"
    assert source["type"] == "grafana-postgresql-datasource"
    password = source["secureJsonData"]["password"]
    assert re.fullmatch(r"\$__file\{/[^}]+\}", password), password
    panels = _dashboard()["panels"]
    for panel in panels:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert all(t["datasource"]["uid"] == source["uid"] for t in panel["targets"])
    titles = " ".join(panel["title"] for panel in panels)
    for wanted in ("per month", "per unit", "per field", "per channel"):
        assert wanted in titles


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_every_panel_query_runs_as_the_read_only_role_and_finds_data(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    seeded = seed(sessions)
    with sessions.begin() as session:  # a follow-up, for its panel
        session.add(
            FollowUpRow(
                rating_id=seeded.feed_ids[0],
                unit=UNIT,
                state="assigned",
                assignee="truongbophan",
                assignee_officer="CB001",
                opened_at=STORED,
                updated_at=datetime(2026, 11, 21, tzinfo=UTC),
                version=1,
            )
        )
    engine.dispose()
    role = f"bi_{uuid.uuid4().hex[:10]}"
    url = make_url(database_url).set(drivername="postgresql")
    create_readonly_role(database_url, role, "password-of-the-bi-role-in-tests")
    dashboard = _dashboard()
    queries = {p["title"]: t["rawSql"] for p in dashboard["panels"] for t in p["targets"]}
    (variable,) = dashboard["templating"]["list"]
    try:
        with psycopg.connect(url.set(username=role).render_as_string(False)) as bi:
            assert bi.execute(variable["query"]).fetchall() == [(UNIT,)]
            for title, sql in queries.items():
                rows = bi.execute(expand(sql)).fetchall()
                assert rows, f"{title}: no rows"
                assert all(value is not None for row in rows for value in row[1:]), title
            monthly = bi.execute(expand(queries[_title(dashboard, "per month")])).fetchall()
            assert [(t.month, round(rate, 1)) for t, rate in monthly] == [(11, 50.0)]
    finally:
        with psycopg.connect(url.render_as_string(False), autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


def _title(dashboard: dict[str, Any], part: str) -> str:
    return next(p["title"] for p in dashboard["panels"] if part in p["title"])
