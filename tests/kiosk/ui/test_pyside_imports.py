"""The guard on kiosk/ui/pyside_imports.py, which replaces a private function of PySide6's import
hook: these fail when PySide6 renames it, stops calling it, or answers differently from it."""

from __future__ import annotations

import importlib
import json
import sqlite3
import sys
from pathlib import Path
from types import ModuleType

import PySide6.QtCore
import pytest

from kiosk.ui import pyside_imports


def feature() -> ModuleType:
    module = sys.modules.get(pyside_imports.FEATURE_MODULE)
    assert module is not None, "PySide6 no longer loads shibokensupport.feature"
    return module


def test_pyside_still_has_the_hook_this_replaces_a_part_of() -> None:
    hook = feature()
    assert callable(getattr(hook, pyside_imports.CHECK, None))
    assert callable(getattr(hook, "feature_imported", None))
    assert isinstance(getattr(hook, "pyside_feature_dict", None), dict)


@pytest.mark.parametrize(
    "module",
    [json, sqlite3, pyside_imports, importlib.import_module("kiosk.ui.window"), PySide6.QtCore],
)
def test_the_quicker_check_answers_as_pysides_own(module: ModuleType) -> None:
    assert pyside_imports.quicken()
    quick = getattr(feature(), pyside_imports.CHECK)
    original = quick.__closure__[0].cell_contents  # what quicken() wrapped
    assert quick(module) == original(module)


def test_modules_imported_after_pyside_are_classified_through_the_quicker_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert pyside_imports.quicken()
    assert pyside_imports.quicken()  # twice: still one wrapper
    hook = feature()
    quick = getattr(hook, pyside_imports.CHECK)
    asked: list[str] = []

    def counting(module: ModuleType) -> bool:
        asked.append(module.__name__)
        answer: bool = quick(module)
        return answer

    monkeypatch.setattr(hook, pyside_imports.CHECK, counting)
    (tmp_path / "hl_uses_qt.py").write_text("from PySide6 import QtCore  # noqa\n")
    (tmp_path / "hl_plain.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("hl_uses_qt", "hl_plain"):
        monkeypatch.delitem(sys.modules, name, raising=False)
        __import__(name)  # an import statement: PySide6's hook wraps builtins.__import__
    assert {"hl_uses_qt", "hl_plain"} <= set(asked)
    # 0: a module that uses PySide6 ("no feature" switched on); -1: ignored by the hook.
    assert hook.pyside_feature_dict["hl_uses_qt"] == 0
    assert hook.pyside_feature_dict["hl_plain"] == -1
    for name in ("hl_uses_qt", "hl_plain"):
        hook.pyside_feature_dict.pop(name, None)


def test_without_the_hook_nothing_is_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, pyside_imports.FEATURE_MODULE)
    assert not pyside_imports.quicken()
