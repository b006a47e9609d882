"""``--format focus``: the FinOps FOCUS dataset (CSV), one row per day, provider, model and config, from the
ledger the request keeps for it."""

from __future__ import annotations

from typing import Any


def write(result: Any, out: Any, style: Any) -> None:
    from ..reports.focus import undated_records, write_focus

    fx = result.sections.currency
    write_focus(result.ledger, out.text(), *((fx.currency, fx.rate) if fx is not None else ()))
    undated = undated_records(result.ledger)
    if undated:
        result.warnings = sorted({*result.warnings, f"{undated:,} priced record(s) have no timestamp: no FOCUS "
                                  "charge period, left out of the FOCUS file"})
