"""Features that compose: every pair of features, each checked against a result computed here, independently.

The world: one model at $1 per 1M input tokens and $2 per 1M output tokens (the test's own cost map), ten requests
of two teams over October and November 2026, config ``a.yaml`` (no margin) and ``b.yaml`` (a 10% margin), and two
monthly exports that overlap by one request. Team t-1 was renamed from agents-old to agents on 1 November; team
t-2 has no alias (``--alias team:t-2=search`` names it). The oracle prices each record by hand:

    cost = (prompt x 1e-6 + completion x 2e-6) x (1.10 when b.yaml is in force at the record's time, else 1)

and picks the records itself (window, team filter, each request once), converts at the test's rate and leaves the
margin out for the bill's computed side. Each pair of features is one ``costcalc.price`` call (or one CLI run for a
format) whose totals, groups and sections must equal the oracle's; a pair a report cannot hold is refused with an
error, never a silent report.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

import costcalc
from costcalc.reports.aggregate import TOTAL
from costcalc.reports.money import exact_text
from costcalc.reports.render import period_lines

from .runner import costcalc as cli

IN, OUT = Fraction(1, 10**6), Fraction(2, 10**6)  # $ per token: the test map's gpt-4o
MARGIN_B = Fraction(11, 10)  # b.yaml: cost_margin_config global 0.10
B_FROM = "2026-11-16"
FX = Fraction(1, 2)  # EUR per USD in the currency feature

# (request id, time, team, prompt tokens, completion tokens)
RECORDS = [
    ("r01", "2026-10-03T10:00:00Z", "agents", 1000, 100),
    ("r02", "2026-10-10T10:00:00Z", "search", 2000, 200),
    ("r03", "2026-10-20T10:00:00Z", "agents", 3000, 300),
    ("r04", "2026-10-31T23:00:00Z", "search", 4000, 400),
    ("r05", "2026-11-02T10:00:00Z", "agents", 5000, 500),
    ("r06", "2026-11-10T10:00:00Z", "search", 6000, 600),
    ("r07", "2026-11-15T23:59:00Z", "agents", 7000, 700),
    ("r08", "2026-11-16T00:00:00Z", "agents", 8000, 800),
    ("r09", "2026-11-20T10:00:00Z", "search", 9000, 900),
    ("r10", "2026-11-28T10:00:00Z", "agents", 10000, 1000),
]

CONFIG_A = """
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o}
"""
CONFIG_B = CONFIG_A + """
litellm_settings:
  cost_margin_config: {global: 0.10}
"""
COST_MAP = {"gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
                       "output_cost_per_token": 2e-06}}


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _month(year: int, month: int) -> tuple[float, float]:
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=timezone.utc)
    return start.timestamp(), end.timestamp()


NOVEMBER, OCTOBER = _month(2026, 11), _month(2026, 10)
# --compare previous over November: the 30 days before it
PREVIOUS_30_DAYS = (NOVEMBER[0] - (NOVEMBER[1] - NOVEMBER[0]), NOVEMBER[0])


@dataclass(frozen=True)
class Oracle:
    """How the test itself prices the world for one run."""

    window: tuple[float, float] | None = None
    team: str | None = None
    dated: bool = False
    fx: Fraction = Fraction(1)
    search_name: str = "t-2"  # how the team without an alias is shown

    def cost(self, record: tuple[Any, ...], margin: bool = True) -> Fraction:
        _, when, _, prompt, completion = record
        base = prompt * IN + completion * OUT
        if margin and self.dated and _ts(when) >= _ts(B_FROM + "T00:00:00Z"):
            base *= MARGIN_B
        return base * self.fx

    def name(self, team: str) -> str:
        return self.search_name if team == "search" else team

    def records(self, window: tuple[float, float] | None = None) -> list[tuple[Any, ...]]:
        window = window or self.window
        return [r for r in RECORDS if (window is None or window[0] <= _ts(r[1]) < window[1])
                and (self.team is None or r[2] == self.team)]

    def total(self, window: tuple[float, float] | None = None, team: str | None = None,
              margin: bool = True) -> Fraction:
        return sum((self.cost(r, margin) for r in self.records(window) if team is None or r[2] == team),
                   Fraction(0))


@dataclass
class Case:
    """One run: library keywords, the CLI's arguments for the same, and the oracle."""

    usage: list[str]
    options: dict[str, Any] = field(default_factory=dict)
    oracle: Oracle = field(default_factory=Oracle)
    checks: list[Any] = field(default_factory=list)  # (result, case) -> None, after the totals check
    fmt: str | None = None
    refused: str | None = None  # the flag the CLI names when the pair cannot be one report

    def argv(self) -> list[str]:
        flags = {"month": "--month", "compare": "--compare", "currency": "--currency", "fx_rate": "--fx-rate",
                 "engine": "--engine", "cost_map": "--cost-map"}
        lists = {"config": "--config", "where": "--where", "budgets": "--budget", "bills": "--reconcile-with",
                 "group_by": "-g", "aliases": "--alias"}
        args = ["price", *self.usage]
        for name, value in self.options.items():
            if name in flags:
                args += [flags[name], str(value)]
            elif name in lists:
                for v in [value] if isinstance(value, str) else value:
                    args += [lists[name], str(v)]
            elif name == "dedupe" and not value:
                args.append("--no-dedupe")
        return args


# -- the world on disk ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("pairs")

    def metadata(team: str, when: str) -> dict[str, str]:
        if team == "search":
            return {"user_api_key_team_id": "t-2"}
        return {"user_api_key_team_id": "t-1", "user_api_key_team_alias": "agents" if when >= "2026-11" else
                "agents-old"}

    def lines(rows: list[tuple[Any, ...]]) -> str:
        return "".join(json.dumps({"request_id": rid, "timestamp": when, "model": "gpt-4o", "prompt_tokens": p,
                                   "completion_tokens": c, "metadata": metadata(team, when)}) + "\n"
                       for rid, when, team, p, c in rows)

    files = {"all": lines(RECORDS), "oct": lines(RECORDS[:5]), "nov": lines(RECORDS[4:])}  # r05 in both
    paths = {}
    for name, text in files.items():
        (root / f"{name}.jsonl").write_text(text)
        paths[name] = str(root / f"{name}.jsonl")
    for name, text in (("a", CONFIG_A), ("b", CONFIG_B)):
        (root / f"{name}.yaml").write_text(text)
        paths[name] = str(root / f"{name}.yaml")
    (root / "map.json").write_text(json.dumps(COST_MAP))
    paths["map"] = str(root / "map.json")
    for currency in ("USD", "EUR"):  # a bill line for every day with a request: every record is covered
        days = sorted({when[:10] for _, when, *_ in RECORDS})
        (root / f"bill-{currency}.csv").write_text("date,provider,model,amount,currency\n" + "".join(
            f"{day},openai,gpt-4o,0.01,{currency}\n" for day in days))
        paths[f"bill-{currency}"] = str(root / f"bill-{currency}.csv")
    return paths


# -- the features: each changes the case and says what to check ----------------------------------------------

def _check_previous(window: tuple[float, float]) -> Any:
    def check(result: Any, case: Case) -> None:
        previous = result.report.previous
        assert previous is not None
        assert previous.since == window[0] and previous.until == window[1]
        _equal(exact(previous.totals), case.oracle.total(window))
        for team in ("agents", "search"):
            got = previous.groups.get((case.oracle.name(team),))
            _equal(exact(got) if got else Fraction(0), case.oracle.total(window, team))
    return check


def budget_spent(case: Case) -> dict[str, Fraction]:
    """Budgets count the window, or without one the calendar month of the newest record (November here)."""
    period = case.oracle.window or NOVEMBER
    return {"total": case.oracle.total(period), "team=agents": case.oracle.total(period, team="agents")}


def _check_budgets(result: Any, case: Case) -> None:
    spent = {b.line.label: Fraction(b.spent) for b in result.sections.budgets.lines}
    assert spent == budget_spent(case)


def _check_bill(result: Any, case: Case) -> None:
    bill = result.sections.bill
    assert Fraction(bill.totals().computed) == case.oracle.total(margin=False)
    assert bill.totals().records == len(case.oracle.records())


def _check_dated_header(result: Any, case: Case) -> None:
    doc = result.as_dict()
    assert doc["config"].endswith("b.yaml") and not any("no --config" in n for n in doc["notes"])
    assert doc["configs"][-1]["from"] == B_FROM
    assert any(line.startswith("prices change inside this period: ") for line in period_lines(result.report))


def dated(case: Case, world: dict[str, str]) -> None:
    case.options["config"] = [world["a"], f"{B_FROM}={world['b']}"]
    case.oracle = replace(case.oracle, dated=True)
    case.checks.append(_check_dated_header)


def compare_previous(case: Case, world: dict[str, str]) -> None:
    case.options.update(month="2026-11", compare="previous")
    case.oracle = replace(case.oracle, window=NOVEMBER)
    case.checks.append(_check_previous(PREVIOUS_30_DAYS))


def compare_previous_month(case: Case, world: dict[str, str]) -> None:
    case.options.update(month="2026-11", compare="previous-month")
    case.oracle = replace(case.oracle, window=NOVEMBER)
    case.checks.append(_check_previous(OCTOBER))


def month(case: Case, world: dict[str, str]) -> None:
    case.options["month"] = "2026-11"
    case.oracle = replace(case.oracle, window=NOVEMBER)


def where(case: Case, world: dict[str, str]) -> None:
    case.options["where"] = ["team=agents"]
    case.oracle = replace(case.oracle, team="agents")


def dedupe(case: Case, world: dict[str, str]) -> None:
    case.usage = [world["oct"], world["nov"]]  # r05 is in both exports: counted once


def currency(case: Case, world: dict[str, str]) -> None:
    case.options.update(currency="EUR", fx_rate="0.5")
    case.oracle = replace(case.oracle, fx=FX)
    if "bills" in case.options:
        case.options["bills"] = [world["bill-EUR"]]


def budgets(case: Case, world: dict[str, str]) -> None:
    case.options["budgets"] = ["total:1", "team=agents:1"]
    case.checks.append(_check_budgets)


def bills(case: Case, world: dict[str, str]) -> None:
    case.options["bills"] = [world["bill-EUR" if "currency" in case.options else "bill-USD"]]
    case.checks.append(_check_bill)


def aliases(case: Case, world: dict[str, str]) -> None:
    case.options["aliases"] = ["team:t-2=search"]
    case.oracle = replace(case.oracle, search_name="search")


def _check_renamed(result: Any, case: Case) -> None:
    both_names = case.oracle.window is None or "compare" in case.options  # October's records are in the run
    assert result.report.renamed == (["team t-1 renamed: agents-old → agents (shown as agents)"] if both_names
                                     else [])


def duckdb(case: Case, world: dict[str, str]) -> None:
    case.options["engine"] = "duckdb"


def _format(name: str) -> Any:
    def feature(case: Case, world: dict[str, str]) -> None:
        case.fmt = name
    feature.__name__ = f"format_{name}"
    return feature


FEATURES = [dated, compare_previous, compare_previous_month, month, where, dedupe, aliases, currency, budgets,
            bills, duckdb, *(_format(f) for f in ("json", "csv", "markdown", "html", "table", "focus"))]
# alternatives of one option, not a pair
EXCLUSIVE = [{"compare_previous", "compare_previous_month"}]
# what a format cannot show: the CLI must refuse the pair with the flag named
REFUSED = {("format_focus", "budgets"): "--budget", ("format_focus", "bills"): "--reconcile-with",
           ("format_focus", "compare_previous"): "--compare", ("format_focus", "compare_previous_month"): "--compare"}


def _pairs() -> list[Any]:
    out = []
    for a, b in itertools.combinations(FEATURES, 2):
        names = {a.__name__, b.__name__}
        if any(names <= e for e in EXCLUSIVE) or all(n.startswith("format_") for n in names):
            continue
        out.append(pytest.param(a, b, id=f"{a.__name__}+{b.__name__}"))
    return out


PAIRS = _pairs()


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_pair(world, capsys, first, second):
    case = Case([world["all"]], {"config": world["a"], "cost_map": world["map"], "group_by": ["team"]})
    for feature in sorted((first, second), key=FEATURES.index):
        feature(case, world)
    refused = REFUSED.get((second.__name__, first.__name__), REFUSED.get((first.__name__, second.__name__), ""))
    if refused:
        code, _, err = cli(capsys, *case.argv(), "-f", case.fmt)
        assert code == 2 and refused in err, err
        return
    if case.fmt is None:
        result = costcalc.price(case.usage, **case.options)
        _check_report(result, case)
        _check_renamed(result, case)
        for check in case.checks:
            check(result, case)
        return
    _check_format(capsys, case)


def _check_report(result: Any, case: Case) -> None:
    report = result.report
    _equal(exact(report.totals), case.oracle.total())
    assert report.totals.requests == len(case.oracle.records())
    teams = {key[0]: exact(t) for key, t in report.groups.items()}
    expected = {case.oracle.name(team): case.oracle.total(team=team) for team in ("agents", "search")
                if any(r[2] == team for r in case.oracle.records())}
    assert teams.keys() == expected.keys()
    for team, total in expected.items():
        _equal(teams[team], total)
    assert report.accounting.rejected == 0 and report.accounting.unpriced == 0


def exact(totals: Any) -> Fraction:
    """A report's exact total (its integer units of money, not the float ``total``)."""
    return Fraction(Decimal(exact_text(totals.costs[TOTAL])))


def _equal(got: Fraction, expected: Fraction) -> None:
    # exact up to the report's own unit (1e-72 USD): a currency conversion rounds to it
    assert abs(got - expected) <= Fraction(1, 10**60), (float(got), float(expected))


def _shown(text: str) -> Decimal:
    return Decimal(re.sub(r"[^0-9.\-]", "", text))


def _close(shown: Decimal, exact: Fraction) -> None:
    """A rounded amount: within half a unit of its last decimal of the exact one."""
    decimals = -shown.as_tuple().exponent
    assert abs(Fraction(shown) - exact) <= Fraction(1, 2 * 10**decimals), (shown, float(exact))


def _check_format(capsys: Any, case: Case) -> None:
    extra = {"table": ["--columns", "total"], "markdown": ["--columns", "total"]}.get(case.fmt, [])
    code, out, err = cli(capsys, *case.argv(), "-f", case.fmt, *extra, "--quiet")
    assert code == 0, err
    exact = case.oracle.total()
    if case.fmt == "json":
        doc = json.loads(out, parse_float=Decimal)
        assert Fraction(doc["totals"]["cost"]["total"]) == exact
        if "budgets" in case.options:
            assert {b["budget"]: Fraction(b["spent"]) for b in doc["budgets"]["lines"]} == budget_spent(case)
        if "bills" in case.options:
            assert Fraction(Decimal(doc["bill_reconciliation"]["totals"]["computed"])) == \
                case.oracle.total(margin=False)
    elif case.fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        if "bills" in case.options:
            assert sum(Fraction(r["computed"]) for r in rows) == case.oracle.total(margin=False)
        elif "budgets" in case.options:
            assert {r["budget"]: Fraction(r["spent"]) for r in rows} == budget_spent(case)
        else:
            assert Fraction(next(r for r in rows if r["team"] == "TOTAL")["total_cost"]) == exact
    elif case.fmt == "focus":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert sum(Fraction(r["BilledCost"]) for r in rows) == exact
    elif case.fmt == "html":
        _close(_shown(re.search(r'<span class="total">([^<]*)</span>', out).group(1)), exact)
    elif case.fmt == "markdown":
        total_row = next(line for line in out.splitlines() if line.startswith("| **total**"))
        _close(_shown(total_row.split("|")[-2]), exact)
    else:
        total_row = next(line for line in out.splitlines() if line.split()[:1] == ["total"])
        _close(_shown(total_row.split()[-1]), exact)


def test_the_matrix_covers_every_pair():
    names = [f.__name__ for f in FEATURES]
    formats = [n for n in names if n.startswith("format_")]
    others = [n for n in names if not n.startswith("format_")]
    covered = {frozenset((p.values[0].__name__, p.values[1].__name__)) for p in PAIRS}
    assert len(PAIRS) == len(covered) == (len(others) * (len(others) - 1) // 2 - len(EXCLUSIVE)
                                         + len(others) * len(formats))
