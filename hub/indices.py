"""The official indices as a use case: one desk for the command line, the pages and the reports
(:class:`IndicesDesk`), answering plain dataclasses; the criteria files read and checked
(:func:`load_criteria`); the text the command line prints (:func:`format_indices`).

The arithmetic is :mod:`hub.domain.indices`, the rules :mod:`hub.domain.criteria`, the reading
:mod:`hub.store.indices`; docs/indices.md says what each figure means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from hailong.contract.clock import unit_day
from hailong.settings.loading import ConfigError, read_toml, validated
from hub.domain.criteria import CriteriaBook, CriteriaSet
from hub.domain.indices import (
    IndexResult,
    NoCriteria,
    SatisfactionRatio,
    officer_indices,
    period_label,
    satisfaction_ratio,
    unit_index,
)
from hub.domain.periods import Period
from hub.store.indices import dossier_facts

__all__ = [
    "IndicesDesk",
    "IndicesReport",
    "NoCriteria",
    "UnitIndices",
    "criteria_folder",
    "format_indices",
    "indices_for",
    "load_criteria",
]


def criteria_folder(config_file: Path) -> Path:
    """Where the criteria files are by default: ``criteria/`` beside the hub's configuration
    file (``config/criteria/``; ``/etc/hailong/criteria/`` on an installed hub)."""
    return config_file.parent / "criteria"


def load_criteria(folder: Path) -> CriteriaBook:
    """Every ``*.toml`` in ``folder`` as one criteria version, checked; a :class:`ConfigError`
    names the file and the key. A file's name is its version (``tt01-2018.toml`` holds
    ``version = "tt01-2018"``), so two files cannot silently claim one version."""
    if not folder.is_dir():
        raise ConfigError(f"{folder}: criteria folder not found")
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise ConfigError(f"{folder}: no criteria file (*.toml) in it")
    sets: list[CriteriaSet] = []
    for path in files:
        criteria = validated(path, CriteriaSet, read_toml(path))
        if criteria.version != path.stem:
            raise ConfigError(
                f"{path}: key `version`: must be the file's name {path.stem!r}"
                f" (got {criteria.version!r})"
            )
        sets.append(criteria)
    try:
        return CriteriaBook(tuple(sets))
    except ValueError as exc:
        raise ConfigError(f"{folder}: key `effective`: {exc}") from exc


@dataclass(frozen=True)
class UnitIndices:
    """One unit's official figures for a period."""

    unit: str
    index: IndexResult  # the unit's index (maximum 18), band Xuất sắc ... Yếu
    officers: tuple[IndexResult, ...]  # each officer's (maximum 10), by officer code
    ratio_766: SatisfactionRatio  # Decision 766's satisfaction ratio


@dataclass(frozen=True)
class IndicesReport:
    """The indices of one or more units for a quarter or a year."""

    period: Period
    label_vi: str  # "Quý 3/2026"
    label_en: str  # "Q3 2026"
    as_of: date  # today on the unit's calendar: dossiers past their promised day are late
    title_vi: str  # the criteria version in force on the period's last day
    title_en: str
    units: tuple[UnitIndices, ...]


class IndicesDesk:
    """The official indices for the command line, the pages and the reports: one query per
    call whatever the number of units (:func:`hub.store.indices.dossier_facts`)."""

    def __init__(self, sessions: sessionmaker[Session], criteria: CriteriaBook) -> None:
        self._sessions = sessions
        self._criteria = criteria

    @property
    def criteria(self) -> CriteriaBook:
        return self._criteria

    def report(self, units: Sequence[str], span: Period, now: datetime) -> IndicesReport:
        """The indices of ``units`` over ``span`` (dossiers received in it), as of ``now``.
        Raises :class:`NoCriteria` for a period before the first criteria version."""
        with self._sessions() as session:
            return indices_for(session, self._criteria, units, span, now)


def indices_for(
    session: Session,
    criteria: CriteriaBook,
    units: Sequence[str],
    span: Period,
    now: datetime,
) -> IndicesReport:
    """:meth:`IndicesDesk.report` in a session the caller holds (a report that reads other
    tables in the same transaction). ``now`` decides whether a dossier still out is late."""
    rules = criteria.in_force(span.last)
    if rules is None:
        raise NoCriteria(
            f"không có bộ tiêu chí nào có hiệu lực ngày {span.last:%d/%m/%Y} / "
            f"no criteria version in force on {span.last.isoformat()}"
        )
    start, end = span.bounds()  # the days on the span's clock (its unit's, Period.on)
    facts = dossier_facts(session, units, start, end, span.zone)
    as_of = unit_day(now, span.zone)
    out = tuple(
        UnitIndices(
            unit=code,
            index=unit_index(dossiers, criteria, code, span.last, as_of),
            officers=officer_indices(dossiers, criteria, span.last, as_of),
            ratio_766=satisfaction_ratio(dossiers, criteria, span.last, as_of),
        )
        for code, dossiers in facts.items()
    )
    label_vi, label_en = period_label(span)
    return IndicesReport(span, label_vi, label_en, as_of, rules.title_vi, rules.title_en, out)


def _figure(result: IndexResult) -> str:
    if result.index is None:
        return "không có dữ liệu / no data"
    text = f"{result.index} / {result.max_available}"
    if result.max_available != result.max:
        text += f" (quy đổi / scaled {result.scaled} / {result.max})"
    band = result.band
    return f"{text}: {band.label_vi} / {band.label_en}" if band is not None else text


def _indicator_lines(result: IndexResult) -> list[str]:
    lines = []
    for item in result.indicators:
        head = f"      {item.number}. {item.name_vi} / {item.name_en}: "
        if item.value is None:
            why = f" ({item.no_data_vi} / {item.no_data_en})" if item.no_data_vi else ""
            lines.append(head + "không có dữ liệu / no data" + why)
        else:
            lines.append(
                head + f"{item.value} / {item.max_points} ({item.dossiers} hồ sơ / dossiers)"
            )
    return lines


def format_indices(report: IndicesReport, names: Mapping[str, str]) -> str:
    """The report as the command line prints it, Vietnamese first. ``names``: unit and officer
    names by code (a code without a name is printed alone)."""
    span = report.period
    lines = [
        f"Chỉ số đánh giá / Official indices: {report.label_vi} / {report.label_en}"
        f" ({span.first:%d/%m/%Y} – {span.last:%d/%m/%Y}),"
        f" tính đến / as of {report.as_of:%d/%m/%Y}",
        f"Bộ tiêu chí / Criteria: {report.title_vi} / {report.title_en}",
    ]
    for unit in report.units:
        index = unit.index
        name = names.get(unit.unit, "")
        lines += [
            "",
            f"Đơn vị / Unit {unit.unit} {name}".rstrip() + f": {index.dossiers} hồ sơ / dossiers",
        ]
        if len(index.versions) > 1:
            parts = ", ".join(f"{v}: {n}" for v, n in index.versions)
            lines.append(
                f"  Hồ sơ theo phiên bản tiêu chí / dossiers per criteria version: {parts}"
            )
        if index.unscored:
            lines.append(
                f"  {index.unscored} hồ sơ trước mọi bộ tiêu chí, không chấm /"
                " dossiers before any criteria version, not scored"
            )
        lines.append(f"  Chỉ số đơn vị / Unit index: {_figure(index)}")
        lines += _indicator_lines(index)
        ratio = unit.ratio_766
        if ratio.percent is None:
            lines.append(
                "  Tỷ lệ hài lòng (QĐ 766) / satisfaction ratio: không có hồ sơ / no dossiers"
            )
        else:
            lines.append(
                f"  Tỷ lệ hài lòng (QĐ 766) / satisfaction ratio: {ratio.percent} %"
                f" = ({ratio.dossiers} − {ratio.excluded}) / {ratio.dossiers};"
                f" không hài lòng / dissatisfied {ratio.dissatisfied},"
                f" quá hạn / late {ratio.late}"
            )
        lines.append("  Cán bộ, công chức / Officers:")
        if not unit.officers:
            lines.append("    (không có / none)")
        for officer in unit.officers:
            who = f"{officer.subject} {names.get(officer.subject, '')}".rstrip()
            lines.append(f"    {who}: {_figure(officer)} ({officer.dossiers} hồ sơ / dossiers)")
    return "\n".join(lines)
