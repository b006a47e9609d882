"""The contract every aggregate engine fulfils, and the types they share.

An aggregate engine (engines/duckdb_engine.py over files, engines/postgres_engine.py inside LiteLLM's database)
takes the pricing engine, the group keys' ``KeySpec``s and the window, and returns sums the report builder folds
in exactly as it folds records the Python engine priced (reports/aggregate.py ``add_sums``):

- ``sums``: ``SumRow``s, the fast-lane records summed per model, rate card, band and raw group-key values;
- ``unpriced``: (``NotPriced``, count) pairs;
- ``filtered`` (and ``skipped`` for a database): counts of records outside the window, or not billable;
- the lines the Python engine must price itself, streamed back in input order.

With de-duplication on, an engine holds no state per request id: it is given the ids met more than once
(engines/request_ids.py for files, reading/postgres.py ``repeated_request_ids`` for a database), sums the records
with any other id, and leaves the records with those ids to the Python engine, which keeps the first of each in
read order and remembers only those.

An engine that cannot take a run as the Python engine would price it raises ``Unsupported`` before anything is
counted. Which engine runs is decided in one place: engines/choose.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..pricing.exact import Band
from ..rates.resolve import PriceSheet


class Unsupported(Exception):
    """This run cannot be priced by an in-SQL engine as the Python engine would price it; the reason says why
    (raised before anything is counted: the run falls back to the Python engine)."""


@dataclass(frozen=True)
class KeySpec:
    """What the query must read for one group key (reports.aggregate.key_spec).

    kind: ``record`` (the raw values of ``fields``, at the top level and under ``metadata``), ``tags``, ``dotted``
    (the value at the path ``fields``), ``time`` (``unit`` hour/day/week/month in time zone ``tz``, keyed in SQL),
    or ``sheet`` / ``model`` / ``constant`` (nothing to read: the report keys them from the rate card and record).
    """

    kind: str
    fields: tuple[str, ...] = ()
    unit: str = ""
    tz: str = "UTC"


@dataclass
class SumRow:
    """Fast-lane records of one model, rate card, band and raw group-key values, summed."""

    model: str
    sheet: PriceSheet
    raw: dict[str, Any]  # the record fields group keys read (as reading.records' raw dict holds them)
    times: dict[str, str]  # time group keys, by unit
    band: Band
    count: int
    units: tuple[int, ...]  # per pricing.exact.SLOTS
    tokens: tuple[int, ...]  # per reports.aggregate.TOKEN_PARTS
    day: str | None = None  # the records' day (the HTML timeline), when asked for
    first: float | None = None  # the earliest and latest timestamp among them
    last: float | None = None
    recorded: Decimal | None = None  # the costs the logs recorded for these records (all of them), summed
    shape: str = "canonical"  # the log shape the records were read from (reading.shapes)



def place_raw(raw: dict[str, Any], place: tuple[str, ...], value: Any) -> None:
    """Put a raw group-key value where the record's own dict would hold it (``("metadata", "team")``...)."""
    if value is None:
        return
    for part in place[:-1]:
        raw = raw.setdefault(part, {})
    raw[place[-1]] = value
