"""Where the CLI writes: the console, output files opened on first write, the progress bar, stderr notes."""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Not a terminal (a pipe, a file, CI): plain text, wide enough that tables do not fold.
    width = None if stream.isatty() else int(os.environ.get("COLUMNS", "0") or 0) or 160

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit 1; a closed pipe (`| head`) means the reader has what it wanted: main() exits 0
            self.quiet = True
            raise BrokenPipeError

    return PipeConsole(stderr=stderr, highlight=False, soft_wrap=False, width=width,
                       no_color=bool(os.environ.get("NO_COLOR")) or None)


def open_out(path: Path | None, *, binary: bool) -> Any:
    """stdout, or a file written whole or not at all: a temporary file beside it, renamed into place when the run
    succeeds (reports.output.AtomicOutput)."""
    from ..reports.output import AtomicOutput

    return AtomicOutput(path, binary=binary)


class Output:
    """The formats' output (formats.registry.Output): stdout or ``path``, opened when a format first writes."""

    def __init__(self, path: Path | None, stack: ExitStack):
        self.path, self.stack = path, stack

    def binary(self) -> IO[bytes]:
        return self._open(binary=True)

    def text(self) -> IO[str]:
        return self._open(binary=False)

    def _open(self, *, binary: bool) -> IO[Any]:
        # the file's clean-up is on the stack before the file exists: a signal in between leaves nothing behind
        target = open_out(self.path, binary=binary)
        self.stack.push(target)
        return target.__enter__()

    def console(self) -> Any:
        if self.path is None:
            return console()
        from rich.console import Console

        return Console(file=self.text(), width=200, no_color=True, highlight=False)


def stderr_summary(result: Any, quiet: bool, notes: bool = True) -> None:
    """Machine formats keep stdout clean: the notes, accounting and warnings go to stderr. With --quiet, only
    the notes (they say the numbers may not be what the proxy charged; ``notes`` False when the report on stdout
    states them) and each warning once: stdout holds the report alone."""
    from ..reports.render import accounting_line, period_lines, report_notes

    err = sys.stderr
    if notes:
        for note in report_notes(result.report, result.config_path):
            err.write(f"note: {note}\n")
    if quiet:
        for w in result.warnings:
            err.write(f"warning: {w}\n")
        return
    for line in period_lines(result.report):
        err.write(line + "\n")
    err.write(accounting_line(result.report) + "\n")
    for w in result.warnings:
        err.write(f"warning: {w}\n")


def progress(items: Any, position: Any, lines_of: Any) -> Any:
    """A progress bar on stderr, only when stderr is a terminal (never when piped): the lines done and their rate,
    and percent and time left when the input's size is known (files). ``items``: input lines, or finished spans
    with --jobs."""
    if not sys.stderr.isatty():
        return items
    return progress_bar(items, position, lines_of)


def progress_bar(items: Any, position: Any, lines_of: Any) -> Any:
    import time

    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    sized = position.total is not None and position.total > 0
    columns: list[Any] = [SpinnerColumn(), TextColumn("pricing {task.fields[lines]:,} lines"),
                          TextColumn("{task.fields[rate]}")]
    if sized:
        columns += [BarColumn(), TaskProgressColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    else:
        columns.append(TimeElapsedColumn())
    with Progress(*columns, console=console(stderr=True), transient=True) as bar:
        task = bar.add_task("pricing", total=position.total if sized else None, lines=0, rate="")
        lines, start, shown = 0, time.monotonic(), 0.0
        for item in items:
            n = lines_of(item)
            lines += n
            now = time.monotonic()
            # a finished span of --jobs at once; single lines at most every PROGRESS_EVERY_S (a clock check per
            # line is cheaper than redrawing)
            if n > 1 or now - shown >= PROGRESS_EVERY_S:
                shown = now
                bar.update(task, completed=position.bytes_read() if sized else lines, lines=lines,
                           rate=rate_text(lines, now - start))
            yield item
        bar.update(task, completed=position.bytes_read() if sized else lines, lines=lines,
                   rate=rate_text(lines, time.monotonic() - start))
        bar.refresh()


PROGRESS_EVERY_S = 0.2


def rate_text(lines: int, seconds: float) -> str:
    """``12,345 lines/s``; empty before there is a rate to tell."""
    if seconds <= 0 or not lines:
        return ""
    return f"{lines / seconds:,.0f} lines/s"
