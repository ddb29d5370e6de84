"""Editing the unit's catalogue file (``[hub] unit_file``) from the administration pages.

The file stays the source of truth. An edit is applied to the parsed document with tomlkit, so
the comments and layout of a hand-kept file survive; the result is validated with the same model
the hub loads (:class:`hailong.settings.Unit`), plus checks that explain the usual mistakes in
Vietnamese and English; only then is the file replaced atomically (a temporary file in the same
folder, fsync, ``os.replace``), after a timestamped copy of the previous file is kept next to it.
The running hub notices the new file and republishes the catalogue to every kiosk
(:meth:`hub.service.HubService._reload_unit_if_changed`).

With ``[hub] catalogue = "database"`` the same edits go to the catalogue tables instead
(:class:`UnitTables`): the unit is rendered as the TOML a unit file would hold, edited and
validated exactly as above, then written with :func:`hub.store.catalogue.import_unit` in one
transaction. :class:`Catalogue` is what the pages ask for the units the hub serves.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import shutil
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import tomlkit
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from tomlkit.items import AoT, Table
from tomlkit.toml_document import TOMLDocument

from hailong.settings import HubSettings, Procedure, Unit
from hub.domain.units import UnitNode, UnitTree
from hub.store import catalogue as stored

KEEP_BACKUPS = 50
MAX_CSV_BYTES = 1_000_000
CSV_COLUMNS = ("code", "name", "field")

ColumnKind = Literal["text", "counter", "field", "factor"]


class CatalogueError(Exception):
    """An edit that was refused; ``problems`` says why, one line each. The file is unchanged."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Column:
    name: str
    label: tuple[str, str]
    kind: ColumnKind = "text"
    required: bool = True


@dataclass(frozen=True)
class Section:
    """One list of the unit file (``[[counters]]``...): its key column and its columns."""

    name: str
    label: tuple[str, str]
    columns: tuple[Column, ...]

    @property
    def key(self) -> str:
        return self.columns[0].name


_CODE = Column("code", ("Mã", "Code"))
_NAME = Column("name", ("Tên", "Name"))
SECTIONS: dict[str, Section] = {
    s.name: s
    for s in (
        Section("fields", ("Lĩnh vực", "Fields"), (_CODE, _NAME)),
        Section("counters", ("Quầy", "Counters"), (_CODE, _NAME)),
        Section(
            "officers",
            ("Công chức", "Officers"),
            (_CODE, _NAME, Column("counter", ("Quầy", "Counter"), "counter", required=False)),
        ),
        Section(
            "procedures",
            ("Thủ tục hành chính", "Procedures"),
            (_CODE, _NAME, Column("field", ("Lĩnh vực", "Field"), "field")),
        ),
        Section(
            "reasons",
            ("Lý do chưa hài lòng", "Reasons"),
            (
                _CODE,
                Column("name", ("Tên (tiếng Việt)", "Name (Vietnamese)")),
                Column("name_en", ("Tên (tiếng Anh)", "Name (English)")),
                Column("factor", ("Yếu tố SIPAS", "SIPAS factor"), "factor"),
            ),
        ),
        Section(
            "kiosks",
            ("Máy đánh giá", "Kiosks"),
            (
                Column("id", ("Mã máy", "Kiosk id")),
                Column("counter", ("Quầy", "Counter"), "counter", required=False),
            ),
        ),
    )
}
_NOUNS = {
    "fields": ("lĩnh vực", "field"),
    "counters": ("quầy", "counter"),
    "officers": ("công chức", "officer"),
    "procedures": ("thủ tục", "procedure"),
    "reasons": ("lý do", "reason"),
    "kiosks": ("máy đánh giá", "kiosk"),
}


@dataclass(frozen=True)
class Snapshot:
    """The file as read: its text, a version tag for forms (refuses lost updates) and the unit."""

    text: str
    version: str
    unit: Unit


def version_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


Edit = Callable[[TOMLDocument], object]


class UnitFile:
    """The unit file, edited by one writer at a time (per process)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def read(self) -> Snapshot:
        text = self.path.read_text(encoding="utf-8")
        return Snapshot(text, version_of(text), validate(text, self.path))

    def change(
        self,
        version: str | None,
        edit: Edit,
        before_write: Callable[[Unit], object] | None = None,
    ) -> Unit:
        """Apply ``edit`` to the current document, validate, call ``before_write`` with the new
        unit (it may refuse by raising), then replace the file. ``version``: the version the
        form was made from; a file changed since then is refused rather than overwritten."""
        with self._lock:
            text = self.path.read_text(encoding="utf-8")
            if version is not None and version != version_of(text):
                raise CatalogueError(
                    [
                        "Tệp danh mục đã thay đổi từ khi trang được mở; hãy tải lại trang và làm "
                        "lại. / The catalogue file changed since this page was opened; reload "
                        "the page and try again."
                    ]
                )
            document = tomlkit.parse(text)
            edit(document)
            new_text = tomlkit.dumps(document)
            unit = validate(new_text, self.path)
            if before_write is not None:
                before_write(unit)
            if new_text != text:
                replace_atomically(self.path, new_text)
            return unit


class UnitTables:
    """One unit's catalogue in the tables, read and changed like :class:`UnitFile`: the edit
    functions below work on the TOML the unit would have in a file, so the checks and messages
    are the same whichever the source. The unit's kind and parent are kept as they are."""

    def __init__(self, sessions: sessionmaker[Session], code: str, lock: threading.Lock) -> None:
        self.sessions = sessions
        self.code = code
        self.where = Path(f"units/{code}")  # names the unit in messages, as a file's path does
        self._lock = lock

    def read(self) -> Snapshot:
        try:
            with self.sessions() as session:
                unit = stored.load_unit(session, self.code)
        except stored.CatalogueStoreError as exc:
            raise CatalogueError([str(exc)]) from exc
        text = unit_text(unit)
        return Snapshot(text, version_of(text), unit)

    def change(
        self,
        version: str | None,
        edit: Edit,
        before_write: Callable[[Unit], object] | None = None,
    ) -> Unit:
        """As :meth:`UnitFile.change`; the unit's row is locked from reading to writing."""
        with self._lock, self.sessions.begin() as session:
            try:
                node = stored.lock_unit(session, self.code)
                text = unit_text(stored.load_unit(session, self.code))
            except stored.CatalogueStoreError as exc:
                raise CatalogueError([str(exc)]) from exc
            if version is not None and version != version_of(text):
                raise CatalogueError(
                    [
                        "Danh mục đã thay đổi từ khi trang được mở; hãy tải lại trang và làm "
                        "lại. / The catalogue changed since this page was opened; reload the "
                        "page and try again."
                    ]
                )
            document = tomlkit.parse(text)
            edit(document)
            unit = validate(tomlkit.dumps(document), self.where)
            if unit.unit.code != self.code:
                raise CatalogueError(["Không đổi được mã đơn vị. / A unit's code cannot change."])
            if before_write is not None:
                before_write(unit)
            try:
                stored.import_unit(session, unit, node.parent, node.kind)
            except stored.CatalogueStoreError as exc:
                raise CatalogueError([str(exc)]) from exc
            return unit


def unit_text(unit: Unit) -> str:
    """The unit as a unit file would hold it (what an edit of a database unit works on)."""
    document = tomlkit.document()
    for key, value in unit.model_dump(mode="json", exclude_none=True).items():
        document[key] = value
    return tomlkit.dumps(document)


class UnitSource(Protocol):
    """Where one unit's catalogue is read and changed: its file, or its rows."""

    def read(self) -> Snapshot: ...

    def change(
        self,
        version: str | None,
        edit: Edit,
        before_write: Callable[[Unit], object] | None = None,
    ) -> Unit: ...


# How long a unit read from the tables is trusted before it is read again: an edit in this
# process is seen at once (Catalogue.changed), one made elsewhere (another web process,
# `hailong catalogue import`) within this.
CACHE_SECONDS = 30.0


class Catalogue:
    """The units this hub serves, for its pages: the tree, and any unit's catalogue by code.

    ``[hub] catalogue = "file"``: the home unit alone (its unit file). ``"database"``: every unit
    in the tables, each read once and kept for :data:`CACHE_SECONDS`. A page asks
    :meth:`unit` for a unit it may show (the login's scope is the page's business) and gets
    ``None`` for a code the hub does not serve.
    """

    def __init__(
        self,
        settings: HubSettings,
        sessions: sessionmaker[Session],
        home: Unit,
        unit_file: UnitFile | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = settings.hub.catalogue
        self.sessions = sessions
        self.home = home
        self.unit_file = unit_file or UnitFile(settings.hub.unit_file)
        self._clock = clock
        self._lock = threading.Lock()  # guards the caches
        self._write_lock = threading.Lock()  # one writer at a time in this process
        self._units: dict[str, tuple[float, Unit | None]] = {}
        self._tree: tuple[float, UnitTree] | None = None

    @property
    def from_database(self) -> bool:
        return self.source == "database"

    def tree(self) -> UnitTree:
        """Every unit served, with its parent."""
        if not self.from_database:
            info = self.home.unit
            return UnitTree.of([UnitNode(info.code, info.name, time_zone=info.time_zone)])
        now = self._clock()
        with self._lock:
            if self._tree is not None and now - self._tree[0] < CACHE_SECONDS:
                return self._tree[1]
        with self.sessions() as session:
            tree = stored.load_tree(session)
        with self._lock:
            self._tree = (now, tree)
        return tree

    def unit(self, code: str) -> Unit | None:
        """The catalogue of a unit the hub serves, or None."""
        if not self.from_database:
            return self.home if code == self.home.unit.code else None
        now = self._clock()
        with self._lock:
            cached = self._units.get(code)
            if cached is not None and now - cached[0] < CACHE_SECONDS:
                return cached[1]
        with self.sessions() as session:
            unit = stored.load_units(session, [code]).get(code)
        with self._lock:
            self._units[code] = (now, unit)
        return unit

    def all(self) -> list[Unit]:
        """Every served unit, read now (not from the cache): what the broker's users and ACLs
        are written from."""
        if not self.from_database:
            return [self.home]
        with self.sessions() as session:
            return list(stored.load_units(session).values())

    def editor(self, code: str | None = None) -> UnitSource:
        """Where the admin pages change a unit (the home unit by default)."""
        code = code or self.home.unit.code
        if not self.from_database:
            if code != self.home.unit.code:
                raise CatalogueError([f"Không có đơn vị “{code}”. / No unit “{code}”."])
            return self.unit_file
        return UnitTables(self.sessions, code, self._write_lock)

    def changed(self, unit: Unit) -> None:
        """A unit was just edited here: the next read sees it (and the tree its new name)."""
        with self._lock:
            if unit.unit.code == self.home.unit.code:
                self.home = unit
            self._units[unit.unit.code] = (self._clock(), unit)
            self._tree = None


def validate(text: str, path: Path) -> Unit:
    """The unit the text describes, or :class:`CatalogueError` naming every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError([f"{path}: not valid TOML: {exc}"]) from exc
    problems = _plain_checks(raw)
    if problems:
        raise CatalogueError(problems)
    try:
        return Unit.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            got = "" if err["type"] == "missing" else f" (got {err.get('input')!r})"
            lines.append(f"{path}: key `{key}`: {err['msg']}{got}")
        raise CatalogueError(lines) from exc


def _plain_checks(raw: dict[str, Any]) -> list[str]:
    """The usual mistakes, said in both languages before the model's own (English) messages."""
    problems: list[str] = []
    codes: dict[str, set[str]] = {}
    for name, section in SECTIONS.items():
        entries = raw.get(name, [])
        seen: set[str] = set()
        vi, en = _NOUNS[name]
        for entry in entries if isinstance(entries, list) else []:
            code = entry.get(section.key) if isinstance(entry, dict) else None
            if not isinstance(code, str):
                continue
            if code in seen:
                problems.append(
                    f"Mã {vi} “{code}” bị trùng. / The {en} code “{code}” is used twice."
                )
            seen.add(code)
        codes[name] = seen
    for name, column, target in [
        ("officers", "counter", "counters"),
        ("kiosks", "counter", "counters"),
        ("procedures", "field", "fields"),
    ]:
        key = SECTIONS[name].key
        vi, en = _NOUNS[name]
        tvi, ten = _NOUNS[target]
        entries = raw.get(name, [])
        for entry in entries if isinstance(entries, list) else []:
            ref = entry.get(column) if isinstance(entry, dict) else None
            if isinstance(ref, str) and ref not in codes[target]:
                problems.append(
                    f"{vi.capitalize()} “{entry.get(key)}” thuộc {tvi} “{ref}” không có trong "
                    f"danh mục. / The {en} “{entry.get(key)}” names the {ten} “{ref}”, which "
                    f"is not in the catalogue."
                )
    return problems


def replace_atomically(path: Path, text: str) -> Path:
    """Keep a timestamped copy of ``path`` next to it, then replace it with ``text`` through a
    temporary file in the same folder (fsync, ``os.replace``): a reader sees the old file or the
    new one, never half of either. Returns the backup's path."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    backup = path.with_name(f"{path.name}.{stamp}.bak")
    shutil.copy2(path, backup)
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    for old in sorted(path.parent.glob(f"{path.name}.*.bak"))[:-KEEP_BACKUPS]:
        with contextlib.suppress(OSError):
            old.unlink()
    return backup


# --- edits on the parsed document ---------------------------------------------------------


def _list(document: TOMLDocument, name: str) -> AoT:
    current = document.get(name)
    if isinstance(current, AoT):
        return current
    if current is not None and not (isinstance(current, list) and not current):
        raise CatalogueError([f"`{name}` in the unit file is not a list of [[{name}]] tables"])
    if current is not None:
        del document[name]
    fresh = tomlkit.aot()
    document.append(name, fresh)
    return fresh


def _find(items: AoT, key: str, value: str) -> int | None:
    return next((i for i, table in enumerate(items) if table.get(key) == value), None)


def save_entry(
    document: TOMLDocument, section: Section, original: str | None, values: dict[str, str | None]
) -> None:
    """Add an entry (``original`` None) or change the one whose key is ``original``. A None
    value removes an optional key (an officer without a counter)."""
    vi, en = _NOUNS[section.name]
    missing = [c for c in section.columns if c.required and not values.get(c.name)]
    if missing:
        names = ", ".join(f"{c.label[0]} / {c.label[1]}" for c in missing)
        raise CatalogueError([f"Thiếu / Missing: {names}"])
    items = _list(document, section.name)
    if original is None:
        table = tomlkit.table()
        for column in section.columns:
            if values.get(column.name) is not None:
                table[column.name] = values[column.name]
        table.add(tomlkit.nl())
        items.append(table)
        return
    index = _find(items, section.key, original)
    if index is None:
        raise CatalogueError(
            [f"Không có {vi} “{original}” (đã bị xoá?). / No {en} “{original}” (removed?)."]
        )
    target: Table = items[index]
    for column in section.columns:
        value = values.get(column.name)
        if value is None:
            if column.name in target:
                del target[column.name]
        elif target.get(column.name) != value:
            target[column.name] = value


def remove_entry(document: TOMLDocument, section: Section, key: str) -> None:
    vi, en = _NOUNS[section.name]
    items = _list(document, section.name)
    index = _find(items, section.key, key)
    if index is None:
        raise CatalogueError([f"Không có {vi} “{key}”. / No {en} “{key}”."])
    del items[index]


def set_unit(document: TOMLDocument, name: str, target_rate: float) -> None:
    unit = document["unit"]
    assert isinstance(unit, Table)
    if unit.get("name") != name:
        unit["name"] = name
    if unit.get("target_rate") != target_rate:
        unit["target_rate"] = target_rate


def set_policy(document: TOMLDocument, values: dict[str, Any]) -> None:
    policy = document.get("kiosk_policy")
    if policy is None:
        policy = tomlkit.table()
        document.append("kiosk_policy", policy)
    for key, value in values.items():
        if policy.get(key) != value or type(policy.get(key)) is not type(value):
            policy[key] = value


# --- the procedure catalogue from a CSV file ------------------------------------------------


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


@dataclass(frozen=True)
class ProcedureImport:
    procedures: tuple[Procedure, ...]
    bad: tuple[BadRow, ...]


def parse_procedures_csv(data: bytes, unit: Unit) -> ProcedureImport:
    """Read a CSV with the columns code, name, field (a header line first, in any order; UTF-8,
    with or without Excel's BOM; comma or semicolon). Every bad row is reported with its line."""
    if len(data) > MAX_CSV_BYTES:
        return ProcedureImport((), (BadRow(0, f"tệp quá lớn / file over {MAX_CSV_BYTES} bytes"),))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        reason = "không phải UTF-8: hãy lưu dạng “CSV UTF-8” / not UTF-8: save it as “CSV UTF-8”"
        return ProcedureImport((), (BadRow(line, reason),))
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return ProcedureImport((), (BadRow(1, "tệp rỗng / the file is empty"),))
    except csv.Error as exc:
        return ProcedureImport((), (BadRow(1, f"CSV: {exc}"),))
    if sorted(header) != sorted(CSV_COLUMNS):
        reason = (
            f"dòng tiêu đề phải gồm đúng các cột {', '.join(CSV_COLUMNS)} (có: "
            f"{', '.join(header) or '—'}) / the header must name exactly the columns "
            f"{', '.join(CSV_COLUMNS)}"
        )
        return ProcedureImport((), (BadRow(1, reason),))
    where = {name: header.index(name) for name in CSV_COLUMNS}
    fields = {f.code for f in unit.fields}
    good: list[Procedure] = []
    bad: list[BadRow] = []
    first_line: dict[str, int] = {}
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            bad.append(BadRow(reader.line_num, f"CSV: {exc}"))
            break
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # blank lines (Excel leaves some at the end)
        if len(row) != len(header):
            bad.append(
                BadRow(
                    line,
                    f"có {len(row)} cột, cần {len(header)} / {len(row)} columns, expected "
                    f"{len(header)}",
                )
            )
            continue
        code, name, field = (row[where[c]].strip() for c in CSV_COLUMNS)
        reasons = []
        try:
            procedure = Procedure(code=code, name=name, field=field)
        except ValidationError:
            procedure = None
            if not _procedure_code(code):
                reasons.append(
                    f"mã thủ tục “{code}” sai dạng (cần như 1.001193) / procedure code "
                    f"“{code}” is not like 1.001193"
                )
            if not _plain_code(field):
                reasons.append(f"mã lĩnh vực “{field}” sai dạng / bad field code “{field}”")
        if not name:
            reasons.append("thiếu tên / the name is empty")
        if field and field not in fields:
            reasons.append(
                f"lĩnh vực “{field}” không có trong danh mục / field “{field}” is not in the "
                "catalogue"
            )
        if code in first_line:
            reasons.append(
                f"mã “{code}” đã có ở dòng {first_line[code]} / code “{code}” is already on "
                f"line {first_line[code]}"
            )
        else:
            first_line[code] = line
        if reasons or procedure is None:
            bad.append(BadRow(line, "; ".join(reasons) or "dòng không hợp lệ / invalid row"))
        else:
            good.append(procedure)
    if not good and not bad:
        bad.append(BadRow(line, "không có thủ tục nào / no procedure in the file"))
    return ProcedureImport(tuple(good), tuple(bad))


def _procedure_code(code: str) -> bool:
    return len(code) == 8 and code[0].isdigit() and code[1] == "." and code[2:].isdigit()


def _plain_code(code: str) -> bool:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    return 1 <= len(code) <= 40 and set(code) <= allowed


@dataclass(frozen=True)
class ImportCounts:
    added: int
    updated: int
    removed: int


def import_procedures(
    document: TOMLDocument, procedures: Iterable[Procedure], replace: bool
) -> ImportCounts:
    """Add new procedures, update those whose code exists; with ``replace``, remove the ones the
    file does not list."""
    section = SECTIONS["procedures"]
    items = _list(document, "procedures")
    wanted = list(procedures)
    added = updated = removed = 0
    for procedure in wanted:
        values: dict[str, str | None] = {
            "code": procedure.code,
            "name": procedure.name,
            "field": procedure.field,
        }
        index = _find(items, "code", procedure.code)
        if index is None:
            save_entry(document, section, None, values)
            added += 1
        else:
            table = items[index]
            if table.get("name") != procedure.name or table.get("field") != procedure.field:
                save_entry(document, section, procedure.code, values)
                updated += 1
    if replace:
        keep = {p.code for p in wanted}
        for table in list(items):
            if table.get("code") not in keep:
                remove_entry(document, section, str(table.get("code")))
                removed += 1
    return ImportCounts(added, updated, removed)
