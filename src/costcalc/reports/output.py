"""Where reports go: written whole or not at all.

A report file is written to a temporary file beside its target (same directory, so same file system), flushed
and fsynced, and renamed over the target only when the run succeeds: a run that fails or is interrupted midway
(a lost database connection, a full disk, Ctrl-C, SIGTERM) leaves the previous report exactly as it was, in
every format. A target that is not a regular file (``/dev/null``, a FIFO, a terminal) is written in place.

Worker processes' parts of a run go to a run directory beside the output (or in the current directory's temp
area when there is none), removed on every exit path: success, failure and the signals ``main`` turns into
exceptions.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from ..errors import CostcalcError, raise_if_signalled, signals_held


class OutputError(CostcalcError):
    """The report cannot be written where asked: exit 2."""

    exit_code = 2


def _regular_or_new(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True
    except OSError:
        return False


class AtomicOutput:
    """A context manager: standard output for ``None`` or ``-``; else a temporary file beside ``path`` that
    becomes ``path`` when the block ends without an exception (and is removed when it ends with one)."""

    def __init__(self, path: Any, *, binary: bool):
        self.path = None if path is None or str(path) == "-" else os.fspath(path)
        self.binary = binary
        self.fh: IO[Any] | None = None
        self.tmp: str | None = None

    def __enter__(self) -> IO[Any]:
        if self.path is None:
            return sys.stdout.buffer if self.binary else sys.stdout
        mode = "wb" if self.binary else "w"
        newline = None if self.binary else ""
        try:
            if not _regular_or_new(self.path):
                self.fh = open(self.path, mode, newline=newline)
                return self.fh
            folder = os.path.dirname(os.path.abspath(self.path))
            with signals_held():
                fd, self.tmp = tempfile.mkstemp(prefix=f".{os.path.basename(self.path)}.", suffix=".tmp",
                                                dir=folder)
                self.fh = os.fdopen(fd, mode, newline=newline)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write ({exc.strerror})") from None
        return self.fh

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if self.fh is None:
            return
        fh, tmp = self.fh, self.tmp
        self.fh = None
        if tmp is None:
            fh.close()
            return
        try:
            if kind is None:
                raise_if_signalled()  # a run a signal ended does not replace the previous report
                fh.flush()
                os.fsync(fh.fileno())
                fh.close()
                with contextlib.suppress(OSError):  # keep the mode a plain open() would have given
                    mask = os.umask(0)
                    os.umask(mask)
                    os.chmod(tmp, 0o666 & ~mask)
                os.replace(tmp, self.path)  # type: ignore[arg-type]
                tmp = None
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    fh.close()
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


@contextlib.contextmanager
def run_directory(beside: Any = None) -> Iterator[str]:
    """A private directory for one run's worker parts: beside ``beside`` (the output file) when given, else in
    the system's temp directory; removed with everything in it however the run ends."""
    folder = None
    if beside is not None and str(beside) != "-":
        folder = os.path.dirname(os.path.abspath(os.fspath(beside)))
    path = None
    try:
        with signals_held():
            try:
                path = tempfile.mkdtemp(prefix=".costcalc-run-", dir=folder)
            except OSError:
                path = tempfile.mkdtemp(prefix="costcalc-run-")
        yield path
    finally:
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)
