"""``--format summary`` / ``summary-slack``: the report in a few lines for a chat message or an email (plain text, or
Slack's markdown), under 2,000 characters; the notes and the accounting go to stderr."""

from __future__ import annotations

from typing import Any


def _writer(style_name: str) -> Any:
    def write(result: Any, out: Any, style: Any) -> None:
        from ..reports.summary import write_summary

        with result.sections.text_money():
            write_summary(result.report, out.text(), result.sections.budgets, style_name)

    return write


write = _writer("plain")
write_slack = _writer("slack")
