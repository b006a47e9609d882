"""Text tables that fit the terminal: every audit table (budgets, bill and recorded-cost reconciliation, diff and
what-if spend) is laid out here, so that each fits the console's width the same way the report's own table does.

Numbers are never cut: a number column is as wide as its widest cell. Labels (the left-aligned columns) share
what the numbers leave, at least ``MIN_LABEL`` characters each, and a longer label is elided in the middle (ids
and names differ at their ends). When even that does not fit, the columns named ``optional`` are left out, in
their order, before any label is shortened below what it needs. A table that cannot fit without cutting a number,
or a column that must stay whole (a sentence: a likely cause, a direction), is listed one row per block instead
(``stacked``): its names on one line, then each amount after its header, then each sentence on a line of its own,
every line wrapped at the terminal's width and no value cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .cells import printable


def elide(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters in the middle, keeping both ends (ids and paths differ at the end)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    head = (width - 1 + 1) // 2
    tail = width - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


MIN_LABEL = 6
GAP = 3  # rich's padding either side of SIMPLE_HEAD's blank divider


@dataclass(frozen=True)
class Fitted:
    """The columns kept (indexes into the headers) and the width of each."""

    columns: list[int]
    widths: list[int]


def fit(headers: Sequence[str], rows: Sequence[Sequence[str]], labels: set[int], width: int | None,
        optional: Sequence[int] = ()) -> Fitted:
    """Which columns to show and how wide, for a table of ``rows`` under ``width`` characters (None: as wide as
    it wants)."""
    needed = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    kept = list(range(len(headers)))
    drop = list(optional)

    def minimum(cols: list[int]) -> int:
        return sum(min(needed[i], MIN_LABEL) if i in labels else needed[i] for i in cols) + GAP * (len(cols) - 1)

    def full(cols: list[int]) -> int:
        return sum(needed[i] for i in cols) + GAP * (len(cols) - 1)

    if width is not None:
        # optional columns go before any label is shortened
        while drop and full(kept) > width:
            kept.remove(drop.pop(0))
    widths = [needed[i] for i in kept]
    if width is None or full(kept) <= width:
        return Fitted(kept, widths)
    label_at = [j for j, i in enumerate(kept) if i in labels]
    for j in label_at:
        widths[j] = min(needed[kept[j]], MIN_LABEL)
    spare = width - minimum(kept)
    while spare > 0 and any(widths[j] < needed[kept[j]] for j in label_at):
        for j in label_at:
            if spare > 0 and widths[j] < needed[kept[j]]:
                widths[j] += 1
                spare -= 1
    return Fitted(kept, widths)


def fitted_table(console: Any, headers: Sequence[str], rows: Sequence[Sequence[str]], *, labels: set[int],
                 left: set[int] = frozenset(), optional: Sequence[int] = (),
                 styles: Sequence[str | None] | None = None, title: str | None = None,
                 whole: set[int] = frozenset()) -> Any:
    """A rich Table of ``rows`` that fits ``console.width``: labels (column indexes ``labels``) left-aligned and
    elided in the middle, the ``left`` columns (dates, sentences with amounts) left-aligned and whole, numbers
    right-aligned and whole; ``styles`` per row. When it cannot fit so, or a ``whole`` column would be elided, the
    rows ``stacked`` instead."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    shown = [[printable(c) for c in row] for row in rows]
    f = fit(headers, shown, labels, console.width, optional)
    if console.width is not None and not fits(headers, shown, f, console.width, whole):
        return stacked(headers, shown, labels | left, styles, title, console.width)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, header_style="bold", title=title,
                  title_justify="left")
    for i, w in zip(f.columns, f.widths):
        table.add_column(elide(headers[i], w), justify="left" if i in labels or i in left else "right", width=w,
                         min_width=w, no_wrap=True, overflow="ellipsis" if i in labels else "fold")
    for n, row in enumerate(shown):
        style = styles[n] if styles is not None else None
        table.add_row(*[Text(elide(row[i], w) if i in labels else row[i]) for i, w in zip(f.columns, f.widths)],
                      style=style)
    return table


def fits(headers: Sequence[str], rows: Sequence[Sequence[str]], f: Fitted, width: int, whole: set[int]) -> bool:
    """Whether the ``fit`` layout shows every kept number and every ``whole`` column uncut within ``width``."""
    if sum(f.widths) + GAP * (len(f.widths) - 1) > width:
        return False
    needed = {i: max([len(headers[i]), *(len(r[i]) for r in rows)]) for i in whole}
    return all(i not in f.columns or f.widths[f.columns.index(i)] >= needed[i] for i in whole)


def stacked(headers: Sequence[str], rows: Sequence[Sequence[str]], text: set[int],
            styles: Sequence[str | None] | None = None, title: str | None = None, width: int = 80) -> Any:
    """One block per row, for a terminal too narrow for the table: the text cells before the first number (the
    row's names) on its first line, then every number as ``header value``, then every later text cell as
    ``header: value`` on lines of its own; lines are broken between amounts and between words, so no value is
    cut."""
    import textwrap

    from rich.console import Group
    from rich.text import Text

    first_number = next((i for i in range(len(headers)) if i not in text), len(headers))
    lines: list[Any] = [Text(title, style="bold")] if title else []
    for n, row in enumerate(rows):
        style = (styles[n] if styles is not None else None) or ""
        names = [row[i] for i in range(first_number) if row[i]]
        lines.append(Text("  ".join(names) or "-", style=f"bold {style}".strip()))
        amounts = [f"{headers[i]} {row[i]}" for i in range(first_number, len(headers)) if i not in text and row[i]]
        line = ""
        for amount in amounts:
            if line and len(line) + 3 + len(amount) > width:
                lines.append(Text(line, style=style))
                line = ""
            line = f"{line}   {amount}" if line else f"    {amount}"
        if line:
            lines.append(Text(line, style=style))
        for i in range(first_number, len(headers)):
            if i in text and row[i]:
                wrapped = textwrap.wrap(f"{headers[i]}: {row[i]}", max(width - 4, 20), initial_indent="    ",
                                        subsequent_indent="      ", break_long_words=False, break_on_hyphens=False)
                lines.extend(Text(w, style=style) for w in wrapped)
    return Group(*lines)
