"""The layout's contract (pyproject's [tool.importlinter]): stages import downward only, and no cycles.

The contract is checked on the real package, and shown to bite on a copy with one upward import added.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = shutil.which("lint-imports", path=os.path.dirname(sys.executable)) or shutil.which("lint-imports")
pytestmark = pytest.mark.skipif(LINT is None, reason="pip install import-linter (a test extra)")


def _lint(project: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    return subprocess.run([LINT, "--no-cache"], cwd=project, env=env, capture_output=True, text=True, timeout=120)


def _copy(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "src" / "costcalc", tmp_path / "src" / "costcalc",
                    ignore=shutil.ignore_patterns("__pycache__", "data"))
    return tmp_path


def test_the_package_keeps_its_layers():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(("module", "upward", "lower", "upper"), [
    ("rates/costmap.py", "from ..pricing import formulas", "rates", "pricing"),
    ("pricing/formulas.py", "from ..reading import records", "pricing", "reading"),
    ("engines/streaming.py", "from ..reports import render", "engines", "reports"),
    ("reports/aggregate.py", "from .. import cli", "reports", "cli"),
    ("reports/pipeline.py", "from ..formats import registry", "reports", "formats"),
    ("formats/json.py", "from ..cli import options", "formats", "cli"),
    ("engines/choose.py", "from ..reports import request", "engines", "reports"),
])
def test_an_upward_import_breaks_the_contract(tmp_path, module, upward, lower, upper):
    project = _copy(tmp_path)
    target = project / "src" / "costcalc" / module
    target.write_text(target.read_text() + f"\n{upward}  # noqa\n")
    result = _lint(project)
    assert result.returncode == 1
    assert f"costcalc.{lower} is not allowed to import costcalc.{upper}" in result.stdout


def test_a_cycle_inside_a_stage_breaks_the_contract(tmp_path):
    # reading.records is imported by reading.shapes; making records import shapes closes a circle
    project = _copy(tmp_path)
    target = project / "src" / "costcalc" / "reading" / "records.py"
    target.write_text(target.read_text() + "\nfrom . import shapes  # noqa\n")
    result = _lint(project)
    assert result.returncode == 1
    assert "no import cycles between modules or packages BROKEN" in result.stdout
