"""The library's report entry point: usage in (files or records), the aggregate Report out, as ``costcalc price``
totals it (every line counted as priced, unpriced, rejected or skipped)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable

from ..engines.streaming import PricingEngine
from ..reading.jsonl import read_usage
from ..reading.records import LineResult
from .aggregate import Report, ReportBuilder

UsageSource = str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | Iterable[LineResult]


def build_report(usage: UsageSource, engine: PricingEngine, group_by: Iterable[str] = ("model",)) -> Report:
    """Price ``usage`` (a usage file, several, or records such as ``UsageRecord``) with ``engine`` and total it per
    ``group_by`` key (the names ``costcalc price --group-by`` takes). Rule warnings met collect in
    ``engine.warnings``."""
    items = iter([usage] if isinstance(usage, (str, os.PathLike)) else usage)
    first = next(items, None)
    if first is None:
        results: Iterable[LineResult] = ()
    elif isinstance(first, (str, os.PathLike)):
        results = read_usage([os.fspath(first), *(os.fspath(p) for p in items)])  # type: ignore[arg-type]
    else:
        results = itertools.chain([first], items)  # type: ignore[list-item]
    return ReportBuilder(group_by).consume_results(results, engine)
