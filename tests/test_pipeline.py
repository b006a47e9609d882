"""The request and the pipeline: one value checked once, one library call, formats declared once, one engine seam.

``costcalc.price`` does what ``costcalc price`` does; its errors name request fields and the CLI words the same
errors with flags; every ``--format`` choice list comes from the registry; what a format needs never changes a
number.
"""

from __future__ import annotations

import inspect
import io
import json

import pytest
import typer

import costcalc
from costcalc.cli import app
from costcalc.engines.choose import DUCKDB_MIN_BYTES, choose_engine
from costcalc.errors import FieldError
from costcalc.formats.registry import FORMATS, choices
from costcalc.reports.render import write_json

from .conftest import ROOT
from .runner import costcalc as cli

USAGE = str(ROOT / "sample_data" / "usage.jsonl")
CONFIG = str(ROOT / "sample_data" / "config.yaml")


@pytest.mark.parametrize(("fields", "field", "library", "flagged"), [
    ({"compare": "previous"}, "compare", "compare: needs a window: since, month or last",
     "Invalid value for --compare: needs a window: --since, --month or --last"),
    ({"month": "2026-11", "since": "2026-11-02"}, "month", "month: give one window: month, last, or since/until",
     "Invalid value for --month: give one window: --month, --last, or --since/--until"),
    ({"fx_rate": "0.9"}, "currency", "currency: give the currency the rates convert to",
     "Invalid value for --currency: give the currency the rates convert to"),
    ({"budgets": ["x"]}, "budgets", "budgets 'x': expected KEY=VALUE:AMOUNT (team=agents:500) or total:AMOUNT",
     "costcalc: error: --budget 'x': expected KEY=VALUE:AMOUNT (team=agents:500) or total:AMOUNT"),
    ({"where": ["team"]}, "where", "where 'team': not KEY=VALUE or KEY!=VALUE (KEY a group key or field path)",
     "costcalc: error: --where 'team': not KEY=VALUE or KEY!=VALUE (KEY a group key or field path)"),
    ({"since": "2026-11-05", "until": "2026-11-01"}, "since",
     "since: since 2026-11-05 is not before until 2026-11-01: the window holds no time",
     "Invalid value for --since: --since 2026-11-05 is not before --until 2026-11-01: the window holds no time"),
])
def test_library_errors_name_fields_and_the_cli_words_them_with_flags(capsys, fields, field, library, flagged):
    with pytest.raises(FieldError) as caught:
        costcalc.price(USAGE, **fields)
    assert caught.value.field == field and str(caught.value) == library and "--" not in library
    argv = []
    for name, value in fields.items():
        flag = {"budgets": "--budget", "fx_rate": "--fx-rate"}.get(name, f"--{name}")
        for v in value if isinstance(value, list) else [value]:
            argv += [flag, v]
    code, _, err = cli(capsys, "price", USAGE, *argv)
    assert code == 2 and flagged in err


def test_price_from_python_equals_the_cli_json(capsys):
    options = {"config": CONFIG, "group_by": ["team"], "month": "2026-11", "currency": "EUR", "fx_rate": "0.92",
               "budgets": ["total:5"], "where": ["team!=support"]}
    written = io.BytesIO()
    write_json(costcalc.price(USAGE, **options).as_dict(), written)
    code, out, _ = cli(capsys, "price", USAGE, "--config", CONFIG, "-g", "team", "--month", "2026-11",
                       "--currency", "EUR", "--fx-rate", "0.92", "--budget", "total:5", "--where", "team!=support",
                       "-f", "json")
    assert code == 0
    assert out.encode() == written.getvalue()


def test_build_report_is_the_plainest_price():
    engine = costcalc.PricingEngine(costcalc.load_cost_map(), costcalc.load_config(CONFIG))
    built = costcalc.build_report(USAGE, engine)
    priced = costcalc.price(USAGE, config=CONFIG, dedupe=False).report
    assert built.totals.total == priced.totals.total and built.accounting == priced.accounting


def _params(command: typer.models.CommandInfo | None, name: str) -> list:
    return [p for p in command.params if p.name == name]


@pytest.mark.parametrize("path", [("price",), ("diff",), ("lookup",), ("models",), ("validate",), ("map", "info"),
                                  ("map", "update")])
def test_every_format_choice_list_is_the_registry(path):
    command = typer.main.get_command(app)
    for part in path:
        command = command.commands[part]
    (fmt,) = _params(command, "fmt")
    assert [getattr(c, "value", c) for c in fmt.type_descriptor.choices] == choices(" ".join(path))


def test_every_report_writer_has_one_signature():
    for f in FORMATS.values():
        if f.write is not None:
            assert list(inspect.signature(f.write).parameters) == ["result", "out", "style"], f.name


@pytest.mark.parametrize("need", sorted({n for f in FORMATS.values() for n in f.needs}))
def test_what_a_format_needs_never_changes_a_number(need):
    plain = costcalc.price(USAGE, config=CONFIG, group_by=["team", "model"])
    asked = costcalc.price(USAGE, config=CONFIG, group_by=["team", "model"], **{need: True})
    for part in ("totals", "groups", "accounting", "unpriced_models", "rejected"):
        assert _json(asked.as_dict()[part]) == _json(plain.as_dict()[part]), part


def _json(value: object) -> bytes:
    written = io.BytesIO()
    write_json({"value": value}, written)
    return written.getvalue()


def test_the_engine_rule(tmp_path):
    small, big = tmp_path / "small.jsonl", tmp_path / "big.jsonl"
    small.write_bytes(b"{}\n")
    with big.open("wb") as fh:
        fh.truncate(DUCKDB_MIN_BYTES)
    pick = choose_engine
    assert pick("auto", [str(small)], database=False, aggregate=True).engine == "python"
    assert pick("auto", [str(big)], database=False, aggregate=True).engine == "duckdb"
    assert pick("auto", [str(big)], database=False, aggregate=False).engine == "python"
    assert pick("duckdb", ["-"], database=False, aggregate=True).why_not == "it does not read standard input"
    assert pick("duckdb", [str(small)], database=False, aggregate=True, filters=True).why_not == \
        "it does not apply --where filters"
    assert pick("auto", [], database=True, aggregate=True).engine == "postgres"
    assert pick("python", [], database=True, aggregate=True).engine == "python"


@pytest.mark.parametrize(("where", "message"), [
    ("teams=search", "--where 'teams=search': no record has 'teams', so every record was left out; did you mean "
                     "team=search"),
    ("team=Search", "--where 'team=Search': no team matches 'Search' (values match case exactly); did you mean "
                    "team=search?"),
    ("team=RES*", "did you mean team=research?"),
])
def test_a_filter_that_leaves_nothing_by_a_mistake_says_what_the_records_hold(capsys, where, message):
    code, out, err = cli(capsys, "price", USAGE, "--config", CONFIG, "--where", where)
    assert code == 2 and out == "" and message in err


def test_a_filter_that_matches_nothing_is_an_empty_report_not_an_error(capsys):
    code, out, _ = cli(capsys, "price", USAGE, "--config", CONFIG, "--where", "team=nobody", "-f", "json")
    assert code == 0 and json.loads(out)["totals"]["requests"] == 0
