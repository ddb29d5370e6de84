"""The dashboard's printer card on a real PostgreSQL: its count of unprinted receipts is read
through the partial index of revision 0017, whatever the size of the register."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from hub.fleet_report import latest_per_counter, unprinted_per_counter
from hub.store.db import make_engine


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_unprinted_receipts_are_counted_from_the_partial_index(database_url: str) -> None:
    engine = make_engine(database_url)
    query = unprinted_per_counter("000.00.20.H41").compile(
        engine, compile_kwargs={"literal_binds": True}
    )
    with engine.connect() as connection:
        # On an empty table the planner would scan it; forbid that to see what it can use.
        connection.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(connection.exec_driver_sql(f"EXPLAIN {query}").scalars())
    assert "ix_receipts_unprinted" in plan, plan


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_each_counters_last_receipt_is_one_probe_of_the_counter_index(database_url: str) -> None:
    """The printer card's last receipt per counter (revision 0019): one statement for every
    counter, each a probe of ``(unit, counter, issued_at)``, not a walk back through the unit's
    register until that counter's receipt turns up."""
    engine = make_engine(database_url)
    compiled = latest_per_counter("000.00.20.H41", ["Q1", "Q2", "Q3"]).compile(engine)
    with engine.connect() as connection:
        connection.execute(text("SET enable_seqscan = off"))
        cursor = connection.connection.cursor()
        cursor.execute(f"EXPLAIN {compiled.string}", compiled.params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ix_receipts_unit_counter_issued_at" in plan, plan
