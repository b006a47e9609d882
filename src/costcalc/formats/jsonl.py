"""``--format jsonl``: one JSON line per input line, written as it is priced."""

from __future__ import annotations

from typing import Any


def records(engine: Any) -> Any:
    from ..reports.render import write_jsonl

    def jsonl(outcomes: Any, out: Any, first: bool) -> None:
        write_jsonl(outcomes, out, engine)

    return jsonl
