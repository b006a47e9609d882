"""Start-up: `costcalc --help` and `costcalc lookup` load only what they use. Checked by the modules a fresh
process has imported after the command (not by timing it): DuckDB, sqlglot and the report and engine modules are
imported by the commands that need them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT

_PROBE = """
import json, sys
from costcalc.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.stdout.flush()
sys.stderr.write(json.dumps(sorted(sys.modules)))
"""

HEAVY = ("duckdb", "sqlglot", "psycopg", "costcalc.engines.duckdb_engine", "costcalc.engines.sqlcompile",
         "costcalc.reports.aggregate", "costcalc.reports.render")


def _modules_after(*args: str) -> set[str]:
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, env=env,
                          timeout=120)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["lookup", "gpt-4o"], ["price", "--help"]])
def test_a_command_imports_no_engine_it_does_not_run(args):
    loaded = _modules_after(*args)
    assert "costcalc.cli" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY) == []


# typer coerces each parameter's value through a pydantic adapter (pydantic is about half of a short command's
# start-up): cli/app.py coerces the plain values itself. YAML is read only with a config, files only by `price`.
VALIDATION = ("pydantic", "pydantic_core")
NOT_FOR_A_LOOKUP = (*VALIDATION, "yaml", "costcalc.reading.jsonl", "costcalc.reading.shapes")


@pytest.mark.parametrize(("args", "unused"), [
    (["--help"], NOT_FOR_A_LOOKUP), (["lookup", "gpt-4o"], NOT_FOR_A_LOOKUP),
    (["lookup", "gpt-4o", "--format", "json"], NOT_FOR_A_LOOKUP),
    (["models", "gpt-4o", "--limit", "2"], NOT_FOR_A_LOOKUP), (["map", "info"], NOT_FOR_A_LOOKUP),
    (["sql", "--table", "usage", "-g", "team", "-g", "model"], VALIDATION)])
def test_a_command_loads_no_validation_library_and_a_lookup_no_config_parser_or_reader(args, unused):
    loaded = _modules_after(*args)
    assert "costcalc.cli" in loaded
    assert sorted(m for m in loaded if m in unused or m.split(".")[0] in unused) == []


def test_a_value_typer_must_convert_or_refuse_still_goes_through_typer(tmp_path):
    # "2" for an integer and a value that is not a choice: typer's own conversion and its own words
    run = [sys.executable, "-m", "costcalc"]
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    bad = subprocess.run([*run, "lookup", "gpt-4o", "--format", "nonsense"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert bad.returncode == 2
    assert "Invalid value for '--format' / '-f': Value error, 'nonsense' is not one of 'table', 'json'." in bad.stderr
    bad = subprocess.run([*run, "models", "gpt", "--limit", "x"], capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2
    assert "Invalid value for '--limit' / '-n'" in bad.stderr
    two = subprocess.run([*run, "models", "gpt-4o", "--limit", "2", "--format", "json"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert two.returncode == 0, two.stderr
    assert len(json.loads(two.stdout)["models"]) == 2


def test_help_loads_no_pricing_at_all():
    loaded = _modules_after("--help")
    # the options' choices come from the request and the engine rule; nothing that reads, rates or prices
    options = {"costcalc.engines", "costcalc.engines.choose", "costcalc.reports", "costcalc.reports.request"}
    assert sorted(m for m in loaded - options if m.startswith((
        "costcalc.pricing", "costcalc.rates", "costcalc.engines", "costcalc.reports", "costcalc.reading"))) == []


def test_the_library_still_exports_its_names():
    import costcalc

    for name in costcalc.__all__:
        assert getattr(costcalc, name) is not None
    with pytest.raises(AttributeError):
        costcalc.no_such_name  # noqa: B018
