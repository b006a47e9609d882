"""``--format markdown``: the report as a pipe table, for a PR or a chat thread."""

from __future__ import annotations

from typing import Any


def write(result: Any, out: Any, style: Any) -> None:
    from ..reports.render import write_markdown, write_reconcile_markdown

    with result.sections.text_money():
        text = out.text()
        write_markdown(result.report, text, result.warnings, config_path=result.config_path, columns=style.columns)
        if result.gaps is not None:
            write_reconcile_markdown(result.report, result.gaps, result.request.tolerance, text)
        result.sections.markdown(text)
