"""``--format html``: one self-contained page with the spend-per-day chart (it needs the request's timeline)."""

from __future__ import annotations

import io
from typing import Any


def write(result: Any, out: Any, style: Any) -> None:
    from ..reports.html import write_html

    doc = result.as_dict()
    with result.sections.text_money():
        page = io.StringIO()
        write_html(result.report, page, doc, result.gaps, result.request.tolerance)
        out.text().write(result.sections.html(page.getvalue()))
