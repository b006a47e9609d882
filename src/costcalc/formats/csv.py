"""``--format csv``: the report's groups (or the one audit table asked for) for a spreadsheet; with
``--per-record``, one row per input line as it is priced."""

from __future__ import annotations

from typing import Any


def write(result: Any, out: Any, style: Any) -> None:
    from ..reports.render import write_csv

    result.sections.csv(out.text(), lambda o: write_csv(result.report, o))


def records(engine: Any) -> Any:
    from ..reports.render import write_csv_records
    from ..reports.run import text_writer

    return text_writer(lambda outcomes, out, first: write_csv_records(outcomes, out, header=first))
