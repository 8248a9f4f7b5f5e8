"""Architecture rule: ``simulator/`` never imports Qt or torch; ``trainers/`` never imports Qt.

Checked twice: statically (every import statement in the source, at any nesting level, plus
``__import__``/``importlib.import_module`` calls with a literal name) and at run time (importing
and using the package in a fresh interpreter loads none of the forbidden modules).
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT = frozenset({"PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6"})
FORBIDDEN = {
    "simulator": QT | {"torch"},
    "trainers": QT,
}
SUBPROCESS_TIMEOUT = 60


def forbidden_imports(source: str, forbidden: frozenset[str], filename: str = "<source>") -> list[str]:
    """``"line N: module"`` for every import of a forbidden top-level package in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module] if node.level == 0 and node.module else []
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            names = [node.args[0].value]
        else:
            continue
        found.extend(f"line {node.lineno}: {name}" for name in names if name.split(".")[0] in forbidden)
    return found


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def python_files(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


# ---- the static scan -----------------------------------------------------------------------------


def test_the_scanner_finds_imports_at_any_nesting_level():
    source = '''
import numpy as np
import os, PySide6.QtCore
from pyqtgraph import PlotWidget
from . import torch            # a relative module of that name is ours, not torch
from .torch import thing
import torchvision             # a different package

def later():
    if True:
        try:
            from PyQt6.QtWidgets import QApplication
        except ImportError:
            import shiboken6

class Lazy:
    def load(self):
        import torch.nn as nn
        return __import__("PyQt5")

def dynamic():
    import importlib
    return importlib.import_module("torch.optim"), importlib.import_module(name)
'''
    found = sorted(forbidden_imports(source, QT | {"torch"}), key=lambda hit: int(hit.split()[1][:-1]))
    assert found == [
        "line 3: PySide6.QtCore",
        "line 4: pyqtgraph",
        "line 12: PyQt6.QtWidgets",
        "line 14: shiboken6",
        "line 18: torch.nn",
        "line 19: PyQt5",
        "line 23: torch.optim",
    ]
    assert forbidden_imports(source, QT) and not any("torch" in f for f in forbidden_imports(source, QT))
    assert forbidden_imports("import numpy\nfrom numba import njit\n", QT | {"torch"}) == []


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_import_in_the_source(package):
    files = python_files(package)
    if package == "simulator":
        assert len(files) >= 5, f"expected simulator's modules, found {files}"
    elif not files:
        pytest.skip(f"{package}/ has no .py files yet")
    violations = [
        f"{path.relative_to(ROOT)} {hit}"
        for path in files
        for hit in forbidden_imports(path.read_text(encoding="utf-8"), FORBIDDEN[package], str(path))
    ]
    assert violations == [], f"{package}/ must not import {sorted(FORBIDDEN[package])}"


# ---- the run-time check --------------------------------------------------------------------------


def loaded_after(statements: str, forbidden: frozenset[str]) -> list[str]:
    """Run ``statements`` in a fresh interpreter at the repo root; the forbidden modules it loaded."""
    code = (
        "import json, sys\n"
        f"{statements}\n"
        f"forbidden = {sorted(forbidden)!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in forbidden)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=SUBPROCESS_TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_runtime_check_sees_loaded_modules():
    assert loaded_after("pass", frozenset({"fractions", "torch"})) == []
    assert loaded_after("import fractions", frozenset({"fractions", "torch"})) == ["fractions"]


def test_simulator_loads_neither_qt_nor_torch():
    statements = (
        "import simulator\n"
        "t = simulator.simulate('rosenbrock', 'Adam', steps=5)\n"
        "assert len(t.xy) == 6, t\n"
    )
    assert loaded_after(statements, FORBIDDEN["simulator"]) == []


def test_trainers_loads_no_qt():
    if not (ROOT / "trainers" / "__init__.py").exists():
        pytest.skip("trainers/ is not a package yet (no trainers/__init__.py)")
    assert loaded_after("import trainers", FORBIDDEN["trainers"]) == []
