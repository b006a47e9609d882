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
        return self.stack.enter_context(open_out(self.path, binary=True))

    def text(self) -> IO[str]:
        return self.stack.enter_context(open_out(self.path, binary=False))

    def console(self) -> Any:
        if self.path is None:
            return console()
        from rich.console import Console

        return Console(file=self.text(), width=200, no_color=True, highlight=False)


def stderr_summary(result: Any, quiet: bool) -> None:
    """Machine formats keep stdout clean: the notes, accounting and warnings go to stderr (the notes even with
    --quiet: they say the numbers may not be what the proxy charged)."""
    from ..reports.render import accounting_line, period_lines, report_notes

    err = sys.stderr
    for note in report_notes(result.report, result.config_path):
        err.write(f"note: {note}\n")
    if quiet:
        return
    for line in period_lines(result.report):
        err.write(line + "\n")
    err.write(accounting_line(result.report) + "\n")
    for w in result.warnings:
        err.write(f"warning: {w}\n")


def progress(items: Any, position: Any, lines_of: Any) -> Any:
    """A progress bar on stderr, only when stderr is a terminal: percent and time left when the input's size
    is known (files), else the lines done. ``items``: input lines, or finished spans with --jobs."""
    if not sys.stderr.isatty():
        return items
    return progress_bar(items, position, lines_of)


def progress_bar(items: Any, position: Any, lines_of: Any) -> Any:
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
    columns: list[Any] = [SpinnerColumn(), TextColumn("pricing {task.fields[lines]:,} lines")]
    if sized:
        columns += [BarColumn(), TaskProgressColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    else:
        columns.append(TimeElapsedColumn())
    with Progress(*columns, console=console(stderr=True), transient=True) as bar:
        task = bar.add_task("pricing", total=position.total if sized else None, lines=0)
        lines = 0
        for n, item in enumerate(items, 1):
            lines += lines_of(item)
            if n % 5000 == 0 or lines_of(item) > 1:
                bar.update(task, completed=position.bytes_read() if sized else lines, lines=lines)
            yield item
