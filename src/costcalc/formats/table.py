"""``--format table``: the report for a terminal (rich), with the audit sections after it."""

from __future__ import annotations

from typing import Any


def write(result: Any, out: Any, style: Any) -> None:
    from ..reports.render import write_reconcile_table, write_table

    console = out.console()
    with result.sections.text_money():
        write_table(result.report, console, result.warnings, chart=style.chart, config_path=result.config_path,
                    wide=style.wide, columns=style.columns)
        if result.gaps is not None:
            write_reconcile_table(result.report, result.gaps, result.request.tolerance, console)
        result.sections.table(console)
