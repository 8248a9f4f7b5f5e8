"""The layers: main > cli > gui > trainers > simulator; simulator imports neither Qt nor torch,
trainers no Qt.

The rules themselves are import-linter contracts in pyproject.toml, checked by ``lint-imports`` in
``make test`` (every import statement at any depth). Here: that those contracts catch what they
promise to (a copy of the tree with one violation of each breaks exactly that contract), and at run
time that using the core packages in a fresh interpreter loads none of the forbidden modules, which
no static scan can see (a dependency that pulls torch in, an import by computed name).
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cli", "gui", "trainers", "simulator")
QT = frozenset({"PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6"})
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
SUBPROCESS_TIMEOUT = 120


def _tree_copy(destination: Path) -> Path:
    """The project's packages, main.py and pyproject.toml (its contracts), sources only."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, destination / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.nb[ic]"))
    for name in ("main.py", "pyproject.toml"):
        shutil.copy(ROOT / name, destination / name)
    return destination


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", "pyproject.toml"], cwd=tree,
                          capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, check=False)


def _contract_lines(output: str) -> dict[str, str]:
    """``{contract name: "KEPT" | "BROKEN"}`` from lint-imports' summary."""
    verdicts = {}
    for line in output.splitlines():
        for verdict in ("KEPT", "BROKEN"):
            if line.endswith(f" {verdict}"):
                verdicts[line.removesuffix(f" {verdict}")] = verdict
    return verdicts


@pytest.fixture(scope="module")
def lint_imports_available():
    if not LINT_IMPORTS.exists():
        pytest.fail(f"lint-imports is not installed next to {sys.executable} (requirements.lock pins it)")


def test_the_tree_keeps_every_contract(tmp_path, lint_imports_available):
    done = _lint_imports(_tree_copy(tmp_path))
    verdicts = _contract_lines(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert verdicts == {
        "cli > gui > trainers > simulator": "KEPT",
        "main.py stays on top": "KEPT",
        "simulator imports neither torch nor Qt": "KEPT",
        "trainers imports no Qt": "KEPT",
        "surface < builtin_surfaces < evaluation < formula < surfaces (get_surface)": "KEPT",
        "the Surface type is a leaf: of the simulator it imports only errors": "KEPT",
        "schedules know no optimizer": "KEPT",
        "L-BFGS and the plateau kernels need no registry": "KEPT",
    }


@pytest.mark.parametrize(("module", "source", "broken", "named"), [
    ("gui/_upward.py", "def later():\n    from cli.train import run_train\n",
     "cli > gui > trainers > simulator", "gui._upward -> cli.train"),
    ("trainers/_upward.py", "from gui.scenario import Scenario\n",
     "cli > gui > trainers > simulator", "trainers._upward -> gui.scenario"),
    ("simulator/_upward.py", "import trainers.config\n",
     "cli > gui > trainers > simulator", "simulator._upward -> trainers.config"),
    ("cli/_top.py", "import main\n", "main.py stays on top", "cli._top -> main"),
    ("simulator/_torch.py", "class Lazy:\n    def load(self):\n        import torch.nn\n",
     "simulator imports neither torch nor Qt", "simulator._torch -> torch"),
    ("simulator/_qt.py", "from PySide6 import QtCore\n",
     "simulator imports neither torch nor Qt", "simulator._qt -> PySide6"),
    ("trainers/_qt.py", "import pyqtgraph\n", "trainers imports no Qt", "trainers._qt -> pyqtgraph"),
    # the circles issue 14 untied (the module replaced by one import that closes its circle again)
    ("simulator/formula.py", "from simulator.surfaces import get_surface\n",
     "surface < builtin_surfaces < evaluation < formula < surfaces (get_surface)",
     "simulator.formula -> simulator.surfaces"),
    ("simulator/surface.py", "from simulator.values import shown\n",
     "the Surface type is a leaf: of the simulator it imports only errors", "simulator.surface -> simulator.values"),
    ("simulator/schedules.py", "from simulator.optimizers import OptimizerSpec\n",
     "schedules know no optimizer", "simulator.schedules -> simulator.optimizers"),
    ("simulator/plateau.py", "import simulator.schedules\n",
     "L-BFGS and the plateau kernels need no registry", "simulator.plateau -> simulator.schedules"),
])
def test_each_contract_catches_its_violation(tmp_path, lint_imports_available, module, source, broken, named):
    tree = _tree_copy(tmp_path)
    (tree / module).write_text(source, encoding="utf-8")
    done = _lint_imports(tree)
    verdicts = _contract_lines(done.stdout)
    assert done.returncode == 1, done.stdout + done.stderr
    assert [name for name, verdict in verdicts.items() if verdict == "BROKEN"] == [broken]
    assert named in done.stdout


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
    assert loaded_after(statements, QT | {"torch"}) == []


def test_trainers_loads_no_qt():
    assert loaded_after("import trainers\nfrom trainers.loop import TrainingRun", QT) == []


def test_the_gui_check_before_qt_loads_no_qt():
    # main.py runs it before anything imports Qt: it must not load Qt's libraries itself.
    assert loaded_after("import gui.preflight\ngui.preflight.startup_problem()", QT) == []
