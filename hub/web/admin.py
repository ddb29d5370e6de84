"""Administration pages (role ``admin``, checked on the server; a CSRF token on every POST): the
unit's catalogue (counters, officers, procedures with a CSV import, fields, reasons, target, kiosk
policy) and its kiosks.

Every change goes to the unit file (``[hub] unit_file``) through :class:`hub.catalogue.UnitFile`:
validated with the model the hub loads, then replaced atomically with a backup; the running hub
republishes it to the kiosks. With ``[hub] catalogue = "database"`` the same edits, validated the
same way, go to the catalogue tables (:class:`hub.catalogue.UnitTables`), for any unit of the
tree within the admin's scope (``?unit=CODE``; the home unit by default). A new kiosk also gets its MQTT password (shown once) and the
Mosquitto password, ACL and client-id files are written again; ``hailong broker`` sees the
client-id file change and restarts Mosquitto, which reads them all (hailong.broker.run_supervised).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    UploadFile,
    status,
)
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from tomlkit.toml_document import TOMLDocument

from hailong.broker import write_broker_files
from hailong.contract.scale import Factor
from hailong.provision import SecretsLayout, init_secrets
from hailong.settings import ConfigError, HubSettings, Unit
from hub import catalogue
from hub.catalogue import SECTIONS, Catalogue, CatalogueError, Snapshot, UnitSource
from hub.domain.units import UnitNode
from hub.web.accounts import Account
from hub.web.context import Ctx, adopt
from hub.web.ops import Admin
from hub.web.pages import check_csrf, render

router = APIRouter(prefix="/admin", include_in_schema=False)
CATALOGUE_SECTIONS = ("counters", "officers", "procedures", "fields", "reasons")
TARGETS = (85.0, 90.0, 95.0)
Text = Annotated[str, Form(max_length=300)]
Optional = Annotated[str | None, Form(max_length=300)]


@dataclass(frozen=True)
class AdminFiles:
    """What the administration pages write: the unit's catalogue (its file, or its rows), the
    secrets, the broker's files; and which unit, of those the admin may edit, is on the page."""

    settings: HubSettings
    unit_file: UnitSource
    catalogue: Catalogue
    code: str  # the unit being edited
    home: bool  # it is the hub's home unit (no ``?unit=`` in the links)
    units: tuple[UnitNode, ...]  # the units this admin may edit (several: a chooser is shown)

    @property
    def layout(self) -> SecretsLayout:
        return SecretsLayout(self.settings.receipts.key_dir.parent)

    @property
    def broker_dir(self) -> Path:
        # where `hailong broker` writes them (hailong.broker.prepare_broker: var/broker)
        return self.settings.receipts.key_dir.parent.parent / "broker"

    @property
    def query(self) -> str:
        """What the page's links and forms carry to stay on this unit."""
        return "" if self.home else "?" + urlencode({"unit": self.code})

    @property
    def where(self) -> str:
        """Where the catalogue is kept, as the pages say it."""
        if self.catalogue.from_database:
            return f"cơ sở dữ liệu / database: units/{self.code}"
        return str(self.settings.hub.unit_file)

    def served_units(self, changed: Unit) -> list[Unit]:
        """Every unit whose kiosks the broker knows, ``changed`` as it is about to be saved."""
        if not self.catalogue.from_database:
            return [changed]
        return [changed if u.unit.code == changed.unit.code else u for u in self.catalogue.all()]


def _files(
    ctx: Ctx,
    account: Admin,
    unit: Annotated[str | None, Query(max_length=40)] = None,
) -> AdminFiles:
    """The unit the page edits: ``?unit=CODE``, one of the units in the admin's scope (404 for
    a unit the hub does not serve, 403 for one outside the scope), else the home unit (or, for
    an admin of another unit, the unit of its scope)."""
    home = ctx.unit.unit.code
    tree = ctx.catalogue.tree()
    allowed = tree.within(account.scope(home))
    codes = {n.code for n in allowed}
    code = unit or (home if home in codes or not codes else allowed[0].code)
    if code not in tree:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such unit")
    if code not in codes:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this unit is outside your scope")
    try:
        source = ctx.catalogue.editor(code)
    except CatalogueError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such unit") from exc
    return AdminFiles(ctx.settings, source, ctx.catalogue, code, code == home, allowed)


Files = Annotated[AdminFiles, Depends(_files)]


def _flash(request: Request, message: str) -> None:
    request.session["admin_flash"] = message


def _take_flash(request: Request) -> str | None:
    message = request.session.pop("admin_flash", None)
    return str(message) if message else None


@router.get("", response_class=HTMLResponse)
def index(request: Request, account: Admin, files: Files) -> HTMLResponse:
    return render(request, "admin/index.html", account=account, unit_file=files.where, files=files)


def _read_or_broken(
    request: Request, account: Account, files: AdminFiles, problems: list[str] | None
) -> Snapshot | HTMLResponse:
    """The unit file as it is now, or the page that says why it cannot be read (500)."""
    try:
        return files.unit_file.read()
    except (OSError, CatalogueError) as exc:
        shown = [*(problems or []), _unreadable(files, exc)]
        response = render(
            request, "admin/broken.html", account=account, problems=shown, unit_file=None
        )
        response.status_code = 500
        return response


def _catalogue_page(
    request: Request,
    account: Account,
    files: AdminFiles,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    snapshot = _read_or_broken(request, account, files, problems)
    if isinstance(snapshot, HTMLResponse):
        return snapshot
    unit = snapshot.unit
    targets = sorted({*TARGETS, unit.unit.target_rate})
    response = render(
        request,
        "admin/catalogue.html",
        account=account,
        current=unit,
        version=snapshot.version,
        sections=[SECTIONS[name] for name in CATALOGUE_SECTIONS],
        rows={name: getattr(unit, name) for name in CATALOGUE_SECTIONS},
        factors=list(Factor),
        targets=targets,
        problems=problems or [],
        notice=_take_flash(request),
        unit_file=files.where,
        files=files,
    )
    response.status_code = status_code
    return response


def _unreadable(files: AdminFiles, exc: Exception) -> str:
    return (
        f"Không đọc được tệp danh mục {files.where}; sửa tệp bằng tay trước. / "
        f"Cannot read the unit file; fix it by hand first: {exc}"
    )


@router.get("/catalogue", response_class=HTMLResponse)
def catalogue_page(request: Request, account: Admin, files: Files) -> HTMLResponse:
    return _catalogue_page(request, account, files)


def _apply(
    request: Request,
    account: Account,
    files: AdminFiles,
    version: str,
    edit: catalogue.Edit,
    done: str,
) -> Response:
    try:
        unit = files.unit_file.change(version, edit)
    except CatalogueError as exc:
        return _catalogue_page(request, account, files, exc.problems, 400)
    adopt(request, unit)
    _flash(request, done)
    return RedirectResponse("/admin/catalogue" + files.query, status_code=303)


def _section(name: str) -> catalogue.Section:
    if name not in CATALOGUE_SECTIONS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such list")
    return SECTIONS[name]


@router.post("/catalogue/{name}/save")
def save_entry(
    request: Request,
    account: Admin,
    files: Files,
    name: str,
    csrf: Annotated[str, Form()],
    version: Annotated[str, Form()],
    original: Optional = None,
    code: Optional = None,
    name_: Annotated[str | None, Form(alias="name", max_length=300)] = None,
    name_en: Optional = None,
    counter: Optional = None,
    field: Optional = None,
    factor: Optional = None,
) -> Response:
    check_csrf(request, csrf)
    section = _section(name)
    given = {
        "code": code,
        "name": name_,
        "name_en": name_en,
        "counter": counter,
        "field": field,
        "factor": factor,
    }
    values = {c.name: (given.get(c.name) or "").strip() or None for c in section.columns}
    key = values.get(section.key) or ""
    was = (original or "").strip() or None

    def edit(document: TOMLDocument) -> None:
        catalogue.save_entry(document, section, was, values)

    verb = "Đã thêm / Added" if was is None else "Đã lưu / Saved"
    return _apply(request, account, files, version, edit, f"{verb}: {section.label[0]} {key}")


@router.post("/catalogue/{name}/remove")
def remove_entry(
    request: Request,
    account: Admin,
    files: Files,
    name: str,
    csrf: Annotated[str, Form()],
    version: Annotated[str, Form()],
    key: Text,
) -> Response:
    check_csrf(request, csrf)
    section = _section(name)

    def edit(document: TOMLDocument) -> None:
        catalogue.remove_entry(document, section, key)

    done = f"Đã xoá / Removed: {section.label[0]} {key}"
    return _apply(request, account, files, version, edit, done)


@router.post("/catalogue/unit")
def save_unit(
    request: Request,
    account: Admin,
    files: Files,
    csrf: Annotated[str, Form()],
    version: Annotated[str, Form()],
    name: Text,
    target_rate: Annotated[float, Form(ge=0, le=100)],
) -> Response:
    check_csrf(request, csrf)

    def edit(document: TOMLDocument) -> None:
        catalogue.set_unit(document, name.strip(), float(target_rate))

    done = f"Đã lưu đơn vị, mục tiêu {target_rate:g} % / Saved the unit, target {target_rate:g} %"
    return _apply(request, account, files, version, edit, done)


@router.post("/catalogue/policy")
def save_policy(
    request: Request,
    account: Admin,
    files: Files,
    csrf: Annotated[str, Form()],
    version: Annotated[str, Form()],
    faces: Annotated[int, Form()],
    reasons_at_or_below: Annotated[int, Form()],
    survey_percent: Annotated[float, Form()],
    unverified_min_interval_s: Annotated[float, Form()],
    allow_walk_in: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, csrf)
    values: dict[str, Any] = {
        "faces": faces,
        "reasons_at_or_below": reasons_at_or_below,
        "survey_share": round(survey_percent / 100, 4),
        "allow_walk_in": allow_walk_in is not None,
        "unverified_min_interval_s": unverified_min_interval_s,
    }

    def edit(document: TOMLDocument) -> None:
        catalogue.set_policy(document, values)

    done = "Đã lưu cách hỏi của máy đánh giá / Saved the kiosk policy"
    return _apply(request, account, files, version, edit, done)


# --- procedures from a CSV file -------------------------------------------------------------


@router.get("/procedures/import", response_class=HTMLResponse)
def import_page(request: Request, account: Admin, files: Files) -> HTMLResponse:
    return _import_page(request, account, files)


def _import_page(
    request: Request,
    account: Account,
    files: AdminFiles,
    bad: tuple[catalogue.BadRow, ...] = (),
    problems: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    response = render(
        request,
        "admin/import.html",
        account=account,
        bad=bad,
        problems=problems or [],
        notice=_take_flash(request),
        columns=catalogue.CSV_COLUMNS,
        unit_file=files.where,
        files=files,
    )
    response.status_code = status_code
    return response


@router.post("/procedures/import")
async def import_procedures(
    request: Request,
    account: Admin,
    files: Files,
    csrf: Annotated[str, Form()],
    upload: Annotated[UploadFile, File()],
    replace: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, csrf)
    data = await upload.read(catalogue.MAX_CSV_BYTES + 1)
    try:
        snapshot = files.unit_file.read()
    except (OSError, CatalogueError) as exc:
        return _import_page(request, account, files, problems=[_unreadable(files, exc)])
    parsed = catalogue.parse_procedures_csv(data, snapshot.unit)
    if parsed.bad:
        return _import_page(request, account, files, bad=parsed.bad, status_code=400)
    counts: list[catalogue.ImportCounts] = []

    def edit(document: TOMLDocument) -> None:
        counts.append(catalogue.import_procedures(document, parsed.procedures, replace is not None))

    try:
        unit = files.unit_file.change(snapshot.version, edit)
    except CatalogueError as exc:
        return _import_page(request, account, files, problems=exc.problems, status_code=400)
    adopt(request, unit)
    c = counts[0]
    _flash(
        request,
        f"Đã nhập {len(parsed.procedures)} thủ tục: {c.added} mới, {c.updated} sửa, {c.removed} "
        f"xoá. / Imported {len(parsed.procedures)} procedures: {c.added} new, {c.updated} "
        f"changed, {c.removed} removed.",
    )
    return RedirectResponse("/admin/procedures/import" + files.query, status_code=303)


# --- kiosks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewKiosk:
    """Shown once, on the page that answers the creation: never stored anywhere but the files."""

    id: str
    password: str | None
    password_file: Path
    pin: str | None
    pin_file: Path


def _kiosks_page(
    request: Request,
    account: Account,
    files: AdminFiles,
    problems: list[str] | None = None,
    created: NewKiosk | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    snapshot = _read_or_broken(request, account, files, problems)
    if isinstance(snapshot, HTMLResponse):
        return snapshot
    response = render(
        request,
        "admin/kiosks.html",
        account=account,
        current=snapshot.unit,
        version=snapshot.version,
        problems=problems or [],
        notice=_take_flash(request),
        created=created,
        broker_dir=files.broker_dir,
        unit_file=files.where,
        files=files,
    )
    response.status_code = status_code
    response.headers["Cache-Control"] = "no-store"  # a new kiosk's password is on it once
    return response


@router.get("/kiosks", response_class=HTMLResponse)
def kiosks_page(request: Request, account: Admin, files: Files) -> HTMLResponse:
    return _kiosks_page(request, account, files)


@router.post("/kiosks/save")
def save_kiosk(
    request: Request,
    account: Admin,
    files: Files,
    csrf: Annotated[str, Form()],
    version: Annotated[str, Form()],
    kiosk_id: Annotated[str, Form(alias="id", max_length=40)],
    counter: Optional = None,
    original: Optional = None,
) -> Response:
    check_csrf(request, csrf)
    section = SECTIONS["kiosks"]
    was = (original or "").strip() or None
    kiosk = kiosk_id.strip()
    values: dict[str, str | None] = {"id": kiosk, "counter": (counter or "").strip() or None}
    if was is not None and was != kiosk:
        problems = [
            "Không đổi được mã máy (đó là tên đăng nhập MQTT): hãy xoá máy và thêm máy mới. / "
            "A kiosk id cannot change (it is its MQTT user name): remove it and add a new one."
        ]
        return _kiosks_page(request, account, files, problems, status_code=400)
    new_secrets: list[Path] = []

    def edit(document: TOMLDocument) -> None:
        catalogue.save_entry(document, section, was, values)

    def before_write(unit: Unit) -> None:
        try:
            new_secrets.extend(init_secrets(unit, files.layout, files.settings.receipts.active_key))
            write_broker_files(
                files.served_units(unit),
                files.layout,
                files.broker_dir,
                files.settings.mqtt.port,
                files.settings.broker,
            )
        except (OSError, ConfigError) as exc:
            raise CatalogueError(
                [f"Không ghi được mật khẩu hoặc tệp của máy chủ MQTT / Cannot write the MQTT "
                 f"secrets or broker files: {exc}"]
            ) from exc  # fmt: skip

    try:
        unit = files.unit_file.change(version, edit, before_write)
    except CatalogueError as exc:
        return _kiosks_page(request, account, files, exc.problems, status_code=400)
    adopt(request, unit)
    if was is not None:
        _flash(request, f"Đã lưu máy {kiosk} / Saved kiosk {kiosk}")
        return RedirectResponse("/admin/kiosks" + files.query, status_code=303)
    password_file = files.layout.mqtt_password_file(kiosk)
    pin_file = files.layout.staff_pin_file(kiosk)
    created = NewKiosk(
        kiosk,
        _read_new(password_file, new_secrets),
        password_file,
        _read_new(pin_file, new_secrets),
        pin_file,
    )
    return _kiosks_page(request, account, files, created=created)


def _read_new(path: Path, created: list[Path]) -> str | None:
    """A secret created just now (shown once); None for one that existed before."""
    return path.read_text().strip() if path in created else None


@router.post("/kiosks/remove")
def remove_kiosk(
    request: Request,
    account: Admin,
    files: Files,
    csrf: Annotated[str, Form()],
    version: Annotated[str, Form()],
    key: Text,
) -> Response:
    check_csrf(request, csrf)

    def edit(document: TOMLDocument) -> None:
        catalogue.remove_entry(document, SECTIONS["kiosks"], key)

    def before_write(unit: Unit) -> None:
        try:
            write_broker_files(
                files.served_units(unit),
                files.layout,
                files.broker_dir,
                files.settings.mqtt.port,
                files.settings.broker,
            )
        except (OSError, ConfigError) as exc:
            raise CatalogueError(
                [f"Không ghi được tệp của máy chủ MQTT / Cannot write the broker files: {exc}"]
            ) from exc

    try:
        unit = files.unit_file.change(version, edit, before_write)
    except CatalogueError as exc:
        return _kiosks_page(request, account, files, exc.problems, status_code=400)
    adopt(request, unit)
    _flash(
        request,
        f"Đã xoá máy {key}: nó không đăng nhập được nữa sau khi máy chủ MQTT nạp lại. / Removed "
        f"kiosk {key}: it can no longer log in once the broker reloads.",
    )
    return RedirectResponse("/admin/kiosks" + files.query, status_code=303)
