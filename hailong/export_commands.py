"""``hailong export``: data out, the dossier feed to a one-stop system (docs/data-out.md).

Part of the command line (registered by :mod:`hailong.cli`); the work is in
:mod:`hub.exports.feed`, imported inside the command.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from hailong.cli_support import hub_option, load_hub_unit


@click.group("export")
def export_group() -> None:
    """Data out: the dossier feed to a one-stop system (docs/data-out.md)."""


@export_group.command("dossiers")
@hub_option
@click.option(
    "--to",
    "destination",
    required=True,
    help="file:FOLDER (JSON Lines, a file per run) or an https:// URL (JSON POST per batch).",
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Leave out ratings given before this day (the unit's date, YYYY-MM-DD).",
)
@click.option("--unit", "unit_code", help="Only this unit's ratings (default: every unit).")
@click.option("--max-batches", type=click.IntRange(min=1), help="Stop after this many batches.")
def export_dossiers(
    config_path: Path,
    destination: str,
    since: datetime | None,
    unit_code: str | None,
    max_batches: int | None,
) -> None:
    """Send the ratings of dossiers stored since the last run (scores, channel, times; no
    personal data). Resumable: the cursor moves only past what the destination took."""
    from datetime import UTC, timedelta

    from hailong.provision import var_dir
    from hub.exports.feed import (
        ExportError,
        ExportRun,
        FileExporter,
        cursor_for,
        export_dossiers,
        exporter_for,
    )
    from hub.store.db import make_engine, session_factory
    from hub.store.feed import FeedRowError

    settings, home = load_hub_unit(config_path)  # its time_zone: the day --since names
    options = settings.export
    try:
        exporter = exporter_for(
            destination,
            token=options.token,
            timeout=options.timeout_seconds,
            attempts=options.attempts,
            backoff=options.backoff_seconds,
            ca_file=options.ca_file,
        )
    except ExportError as exc:
        raise click.ClickException(str(exc)) from exc
    folder = options.cursor_dir or var_dir(settings) / "export"
    cursor = cursor_for(folder, exporter.describe(), unit_code)
    sessions = session_factory(make_engine(settings.hub.database_url))

    def report(run: ExportRun) -> None:
        click.echo(f"{exporter.describe()}: {run.records} records in {run.batches} batches")

    try:
        run = export_dossiers(
            sessions,
            exporter,
            cursor,
            now=datetime.now(UTC),
            # A file per run (up to 5000 records); a POST per [export] batch_size.
            batch_size=5000 if isinstance(exporter, FileExporter) else options.batch_size,
            settle=timedelta(seconds=options.settle_seconds),
            rated_since=since.replace(tzinfo=home.zone) if since else None,
            unit=unit_code,
            source=settings.hub.public_base_url,
            max_batches=max_batches,
            progress=report,
            version=options.feed_version,
        )
    except (ExportError, FeedRowError) as exc:
        raise click.ClickException(f"{exc} (cursor kept: {cursor.path})") from exc
    click.echo(f"sent {run.records} records in {run.batches} batches; cursor {cursor.path}")
