"""Reading a config file: TOML in, a validated model out, or one :class:`ConfigError` that names
the file, the key and what was expected, so a mistyped config fails before anything runs.

Relative paths in a file (:data:`ConfigPath`, and a SQLite file in a ``database_url``) are
resolved against that file's folder. Secrets are never in these files: they name files under
``var/secrets/`` that ``hailong init`` creates and that git ignores (:func:`read_secret`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
)
from pydantic_core import ErrorDetails

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")]


# The validation context key under which ``load`` passes the config file's folder.
CONFIG_DIR = "config_dir"


def _against_config(value: Path, info: ValidationInfo) -> Path:
    """A relative path in a config file is relative to that file's folder (``load`` passes it
    as the validation context), not to the shell's current directory."""
    base = info.context.get(CONFIG_DIR) if isinstance(info.context, dict) else None
    if base is None or value.is_absolute():
        return value
    return (Path(base) / value).resolve()


# A file or folder named in a config file. Built in Python (tests, the demo), it is taken as is.
ConfigPath = Annotated[Path, AfterValidator(_against_config)]


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names file and key."""


class Section(BaseModel):
    """A table of a config file: an unknown key is an error (a typo is not silently ignored).

    ``defer_build``: a model's validator is built when it first validates, not at import, so a
    process pays only for the sections it reads (the kiosk's cold start, docs/kiosk.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def read_secret(path: Path, key: str) -> str:
    """The secret in ``path`` (named by config key ``key``), read when it is needed: a model
    holds the file's name, never the secret, so a dump or a log of the settings shows none."""
    try:
        value = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(
            f"{key}: cannot read {path} ({exc.strerror}); run `hailong init`"
        ) from exc
    if not value:
        raise ConfigError(f"{key}: {path} is empty")
    return value


_M = TypeVar("_M", bound=BaseModel)


def read_toml(path: Path) -> dict[str, Any]:
    """The tables of a TOML file. A missing file raises :class:`FileNotFoundError` (the caller
    says what that means); any other problem is a :class:`ConfigError` naming the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def validated(
    path: Path, model: type[_M], raw: object, context: dict[str, Any] | None = None
) -> _M:
    """``raw`` (read from ``path``) as ``model``, or a :class:`ConfigError` with one line per
    problem."""
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as exc:
        raise ConfigError("\n".join(_problem(path, err) for err in exc.errors())) from exc


def _problem(path: Path, err: ErrorDetails) -> str:
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    got = "" if err["type"] == "missing" else f" (got {err.get('input')!r})"
    dated = err["type"] in ("date_type", "datetime_type", "timezone_aware")
    hint = ", written as a TOML date-time such as 2027-02-23T08:00:00Z" if dated else ""
    return f"{path}: key `{key}`: {err['msg']}{hint}{got}"


def _resolve_paths(data: object, base: Path) -> object:
    """A SQLite file in a ``database_url`` is relative to the config's folder, like every
    :data:`ConfigPath` (a URL is text, so it is resolved here)."""
    if isinstance(data, dict):
        out: dict[str, object] = {}
        for key, value in data.items():
            if key == "database_url" and isinstance(value, str):
                out[key] = _resolve_sqlite_url(value, base)
            else:
                out[key] = _resolve_paths(value, base)
        return out
    if isinstance(data, list):
        return [_resolve_paths(item, base) for item in data]
    return data


def _resolve_sqlite_url(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix:
        return prefix + str((base / url[len(prefix) :]).resolve())
    return url


def load(path: Path | str, model: type[_M]) -> _M:
    """Load and validate one TOML file; raise :class:`ConfigError` naming file, key, expectation."""
    path = Path(path)
    try:
        raw = read_toml(path)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    base = path.resolve().parent
    return validated(path, model, _resolve_paths(raw, base), context={CONFIG_DIR: base})
