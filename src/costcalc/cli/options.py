"""Every option shared by commands, declared once; the ``--format`` choices of each command (from the format
registry); the flag each request field is set by; and the rules between options that only the CLI has (the
format against the sections asked for), in one table.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

import typer

from ..engines.choose import ENGINES
from ..errors import CostcalcError, FieldError
from ..formats.registry import FORMATS, choices, showing

T = TypeVar("T")


@functools.cache
def format_choice(command: str) -> Any:
    """The ``--format`` choices of ``command`` as the Enum typer lists: from the registry, nowhere else."""
    return Enum(f"Format_{command.replace(' ', '_').replace('-', '')}", {n: n for n in choices(command)}, type=str)


def format_option(command: str, default: str = "table", help: str | None = None) -> Any:
    return typer.Option(format_choice(command)(default), "--format", "-f", help=help)


# -- inputs ------------------------------------------------------------------------------------------------------

USAGE = typer.Argument(..., help="Usage files: JSONL, a JSON array of records, or Parquet ('-' for stdin; gzip, bz2 "
                       "and zstd recognised by their bytes; directories are searched for *.jsonl, *.ndjson and "
                       "*.parquet), or LiteLLM's PostgreSQL database: postgresql://USER@HOST:PORT/DB, or db: for "
                       "$DATABASE_URL.")
CONFIG = typer.Option(None, "--config", "-c", help="LiteLLM proxy config.yaml.", metavar="CFG")
CONFIGS = typer.Option([], "--config", "-c", help="LiteLLM proxy config.yaml; DATE=CFG prices the records from DATE "
                       "on with CFG (repeat for a price history).", metavar="CFG")
COST_MAP = typer.Option(None, "--cost-map", help="LiteLLM-format cost map JSON (default: $COSTCALC_COST_MAP, the "
                        "refreshed map in the cache, else the embedded snapshot).", metavar="PATH")
MAP_AS_OF = typer.Option(None, "--map-as-of", help="Price with the cost map snapshot (kept by map update) in force "
                         "at this date/time.", metavar="DATE")

# -- which records, and how they are grouped ---------------------------------------------------------------------

GROUP_BY = typer.Option(["model"], "--group-by", "-g", help="model, deployment, provider, user, team, key, "
                        "customer, org, tag, shape, hour, day, week, month, or a dotted path (metadata.project); "
                        "repeat to nest.", metavar="KEY")
SINCE = typer.Option(None, "--since", help="Only records at or after this date/time (UTC unless given), or this "
                     "long ago: 7d, 12h, 2w.", metavar="WHEN")
UNTIL = typer.Option(None, "--until", help="Only records before this date/time (exclusive), or this long ago.",
                     metavar="WHEN")
MONTH = typer.Option(None, "--month", help="Only records of this calendar month (2026-10), in --tz.",
                     metavar="YYYY-MM")
LAST = typer.Option(None, "--last", help="Only records of the last 7d, 12h, 2w (until now).", metavar="DURATION")
TZ = typer.Option("UTC", "--tz", help="Time zone for hour/day/week/month buckets.")
WHERE = typer.Option(None, "--where", help="Only records whose KEY (a group key or field path) matches VALUE, a "
                     "glob: team=search, model!=gpt-4o*; repeat to narrow (the same key twice: either value).",
                     metavar="KEY=VALUE")
DEDUPE = typer.Option(True, "--dedupe/--no-dedupe", help="Count each request id (spend-log request_id, provider "
                      "response id) once across all inputs.")
Engine = Enum("Engine", {e: e for e in ENGINES}, type=str)  # type: ignore[misc]
ENGINE = typer.Option(Engine("auto"), "--engine", help="Which engine prices: python (the reference), duckdb (aggregate "
                      "reports, large inputs), or auto: duckdb for aggregate reports over 4 MiB of files or more, "
                      "python otherwise; postgres (a database's aggregate reports, the default there) prices "
                      "inside the database.")
JOBS = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes (default: every core, for plain-file "
                    "inputs of 64 MiB or more; 1 otherwise).")
STATEMENT_TIMEOUT = typer.Option(None, "--statement-timeout", min=0.0, help="With a database: cancel any query "
                                 "running longer than this many seconds.", metavar="SECONDS")
DB_TIMEOUT = typer.Option(300.0, "--db-timeout", min=0.0, help="With a database: give up when the server has not "
                          "answered for this many seconds (a frozen server, a dead network; 0: wait forever).",
                          metavar="SECONDS")
DECIMALS = typer.Option(None, "--decimals", min=0, max=12, help="Show every amount with exactly N decimals "
                        "(default: two significant digits of the groups that make up 99% of the spend, at least "
                        "cents).", metavar="N")
REPLAY_BUDGETS = typer.Option(None, "--replay-budgets", help="Replay LiteLLM's budget enforcement over these logs at "
                              "the config's prices (with diff --against: under both configs): who would have been "
                              "blocked, when, and how much traffic refused (a budgets file or the proxy's database: "
                              "docs/budget-replay.md).", metavar="FILE|postgresql://")
QUIET = typer.Option(False, "--quiet", "-q", help="Standard output holds the report alone: no progress bar, and "
                     "the warnings go to stderr, each once.")

# The flag each request field is set by: library errors name fields, the CLI words them with these.
FLAGS = {"usage": "USAGE", "configs": "--config", "group_by": "--group-by", "where": "--where",
         "budgets": "--budget", "bills": "--reconcile-with", "records": "--format", "statement_timeout":
         "--statement-timeout", "map_as_of": "--map-as-of", "cost_map": "--cost-map", "fx_rate": "--fx-rate",
         "fx_rates": "--fx-rates", "aliases": "--alias", "usage_files": "--reconcile-usage",
         "budget_file": "--replay-budgets"}


def flag(field: str) -> str:
    return FLAGS.get(field, "--" + field.replace("_", "-"))


# -- rules between the format and what is asked of it ------------------------------------------------------------

# (option, section it shows): the option needs a format that shows the section (formats/registry.py)
SECTION_OF = {"--reconcile": "reconcile", "--reconcile-with": "bill", "--budget": "budgets", "--currency": "currency",
              "--compare": "compare", "--reconcile-usage": "usage_gap", "--replay-budgets": "budget_replay"}


@dataclass(frozen=True)
class Given:
    """What a price command was asked: the format, and which options were given."""

    fmt: str
    options: dict[str, bool]
    explain: bool
    per_record: bool

    def has(self, option: str) -> bool:
        return self.options.get(option, False)

    @property
    def records(self) -> bool:
        """Records are written as they are priced (no report of totals to hold a section)."""
        return self.explain or self.per_record or FORMATS[self.fmt].write is None


def _shows(option: str) -> Any:
    section = SECTION_OF[option]
    return (lambda g: g.has(option) and (g.records or g.fmt not in showing(section)),
            lambda g: ("per-record formats stay in USD: " if g.records and option == "--currency" else "")
            + f"{option} goes with --format {_or(showing(section))}")


# (the option a message names, or a function of what was given that names it; when the rule is broken; the
# message): checked in this order, the first broken rule is the error
FORMAT_RULES: list[tuple[str, Any, Any]] = [
    ("--per-record", lambda g: g.per_record and FORMATS[g.fmt].per_record is None,
     lambda g: "--per-record goes with --format " + _or(f.name for f in FORMATS.values() if f.per_record)),
    ("--line", lambda g: g.has("--line") and not g.explain, lambda g: "--line goes with --explain"),
    ("--format", lambda g: g.explain and FORMATS[g.fmt].explains is None,
     lambda g: f"--format {g.fmt} writes the {g.fmt.upper()} dataset only: no --explain"),
    *((option, *_shows(option)) for option in SECTION_OF),
    (lambda g: _tables(g)[-1], lambda g: FORMATS[g.fmt].one_table and len(_tables(g)) > 1,
     lambda g: f"a {g.fmt.upper()} holds one table: {_or(_tables(g))}, not "
     + ("both" if len(_tables(g)) == 2 else "all three")),
    ("--fail-over-budget", lambda g: g.has("--fail-over-budget") and not g.has("--budget"),
     lambda g: "--fail-over-budget needs at least one --budget"),
]


def check_format(fmt: str, given: dict[str, bool], explain: bool, per_record: bool) -> None:
    """The rules between ``--format`` and the options given (``given``: option -> given?), from FORMAT_RULES."""
    asked = Given(fmt, given, explain, per_record)
    for option, broken, message in FORMAT_RULES:
        if broken(asked):
            raise typer.BadParameter(message(asked), param_hint=option(asked) if callable(option) else option)


def _tables(g: Given) -> list[str]:
    """The options given that each ask for a table of their own beside the report."""
    return [option for option in ("--reconcile", "--reconcile-with", "--budget") if g.has(option)]


def _or(names: Any) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]



# -- calling the library: its errors name request fields, the CLI words them with flags ---------------------------

class CommandError(CostcalcError):
    """A usage problem found while running a command (exit 2)."""

    exit_code = 2


def worded(exc: FieldError) -> Exception:
    """A library error about a request field, as the CLI says it: with the field's flag."""
    if exc.about_value:
        return CommandError(exc.worded(flag))
    return typer.BadParameter(exc.worded(flag, with_field=False), param_hint=flag(exc.field))


def library_call(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return call(*args, **kwargs)
    except FieldError as exc:
        raise worded(exc) from None


def request(usage: list[str], **fields: Any) -> Any:
    """The ``PriceRequest`` of a command's options (checked: rules between fields, with flags in messages)."""
    from ..reports.request import PriceRequest

    return library_call(PriceRequest.build, usage, **fields)


def load(cost_map: str | None, config: str | None) -> tuple[Any, Any]:
    """The cost map and the proxy config a command names (an empty config: none)."""
    from ..rates.config import ProxyConfig, load_config
    from ..rates.costmap import load_cost_map
    from ..reports.request import config_path

    cm = load_cost_map(cost_map)
    cfg = load_config(library_call(config_path, config)) if config is not None else ProxyConfig.empty()
    return cm, cfg


def check_window_options(needs: str, **given: Any) -> None:
    """Window and filter options of a command that only apply with ``needs`` (another option)."""
    for name, value in given.items():
        if value:
            raise typer.BadParameter(f"goes with {needs}", param_hint=flag(name))
