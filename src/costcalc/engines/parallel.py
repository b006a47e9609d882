"""Pricing large inputs on several cores: files are cut at line boundaries into spans, each span is priced by a
forked worker, and the partial results are merged in span order, so the output is identical to one process.

Only plain files are cut (not stdin or .gz), and nothing is cut when a file looks like a Claude Code
transcript: de-duplicating a streamed message needs the whole file, and resumed sessions need every file.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from ..reading.csvfile import is_csv
from ..reading.jsonl import Span, compression_of, expand_paths, is_document, text_encoding
from ..reading.parquet import PARQUET_MAGIC

T = TypeVar("T")
AUTO_MIN_BYTES = 64 << 20  # below this, forking costs more than it saves
RELATIVE = 1  # the first line number of a span whose true number is only known after the merge
_SPANS_PER_JOB = 4  # more spans than workers keeps both cores busy when spans price at different speeds
_TRANSCRIPT_MARKERS = (b'"sessionId"', b'"requestId"', b'"parentUuid"')
ENDING_GRACE = 5.0  # seconds the pool's own ending may take before its workers are killed


def _splittable(path: str) -> int | None:
    """The size of a plain file we may cut, or None (stdin, compressed, a JSON array, transcripts, unreadable)."""
    if path == "-":
        return None
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None  # a pipe (/dev/stdin, <(zcat …)): reading its head here would lose those lines
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
            size = os.fstat(fh.fileno()).st_size
    except OSError:
        return None
    if compression_of(head) or head[:4] == PARQUET_MAGIC or text_encoding(head) or is_document(head) \
            or is_csv(path) or any(marker in head for marker in _TRANSCRIPT_MARKERS):  # documents are read whole
        return None
    return size


def plan(paths: Iterable[str], jobs: int | None, min_bytes: int = AUTO_MIN_BYTES,
         numbered: bool = True) -> list[Span] | None:
    """Spans to price in parallel, in input order; None when one process is the better plan.

    ``jobs=None`` means "the number of cores, for inputs of at least ``min_bytes``". With ``numbered=False``
    spans after the first of a file are numbered from 1 (``RELATIVE``), saving a pass over the input: the
    caller shifts line numbers by the line counts the workers report."""
    files = expand_paths(paths)
    sizes = [_splittable(p) for p in files]
    if any(size is None for size in sizes):
        return None
    total = sum(s for s in sizes if s is not None)
    cores = os.cpu_count() or 1
    workers = cores if jobs is None else jobs
    if workers <= 1 or (jobs is None and total < min_bytes) or total == 0:
        return None
    target = max(total // (workers * _SPANS_PER_JOB), 1 << 16)
    spans: list[Span] = []
    for path, size in zip(files, sizes):
        spans.extend(_cut(path, size or 0, target, numbered))
    return spans if len(spans) > 1 else None


def _cut(path: str, size: int, target: int, numbered: bool) -> Iterator[Span]:
    """Spans of about ``target`` bytes, each starting at a line start, with the number of that line."""
    if size <= target:
        yield path, 0, None, 1
        return
    starts = [0]
    with open(path, "rb") as fh:
        pos = target
        while pos < size:
            fh.seek(pos)
            while True:  # finish the line that straddles the cut, a bounded piece at a time (lines may be huge)
                piece = fh.readline(1 << 20)
                if not piece or piece[-1:] == b"\n":
                    break
            start = fh.tell()
            if start >= size:
                break
            if start > starts[-1]:
                starts.append(start)
            pos = start + target
        lines_before = [1]
        fh.seek(0)
        counted, number = 0, 1
        for start in starts[1:]:
            if numbered:
                number += _count_newlines(fh, start - counted)
                counted = start
            lines_before.append(number if numbered else RELATIVE)
    ends: list[int | None] = [*starts[1:], None]
    for start, end, first in zip(starts, ends, lines_before):
        yield path, start, end, first


def _count_newlines(fh: Any, nbytes: int) -> int:
    count = 0
    while nbytes > 0:
        block = fh.read(min(nbytes, 8 << 20))
        if not block:
            break
        count += block.count(b"\n")
        nbytes -= len(block)
    return count


def run(items: list[Any], jobs: int | None, work: Callable[[Any], T]) -> Iterator[T]:
    """``work`` applied to every item (a span, with whatever the caller pairs it with) in forked workers;
    results come back in item order."""
    workers = min(jobs or os.cpu_count() or 1, len(items))
    if "fork" not in multiprocessing.get_all_start_methods() or workers <= 1:
        for item in items:
            yield work(item)
        return
    global _WORK
    _WORK = work  # inherited by the forked workers: closures need not be picklable
    ctx = multiprocessing.get_context("fork")
    before = set(multiprocessing.active_children())
    pool = ctx.Pool(workers, initializer=_ignore_interrupt)
    forked = [child for child in multiprocessing.active_children() if child not in before]
    try:
        yield from pool.imap(_call, items, chunksize=1)
    finally:
        _end(pool, forked)


def _end(pool: Any, forked: list[Any]) -> None:
    """End the pool, and kill the workers it cannot end. A worker forked while another thread of this process
    held a lock can hang before it runs ``_ignore_interrupt``: it then keeps the parent's SIGTERM handler, which
    never runs, and ``Pool.terminate`` would wait for it forever. Every result has been taken or given up by now,
    and a worker's output is a closed file, so killing one loses nothing."""
    ending = threading.Thread(target=pool.terminate, daemon=True)
    ending.start()
    ending.join(ENDING_GRACE)
    if ending.is_alive():
        for worker in forked:
            if worker.exitcode is None:
                worker.kill()
        ending.join()


def _ignore_interrupt() -> None:
    """Ctrl-C reaches every process of the terminal's group: workers leave it to the parent, which stops them
    (leaving the pool terminates it) and exits 130, so no worker prints a traceback. Likewise SIGTERM (143)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM and SIGHUP end a worker at once and quietly (the parent's handler, inherited by the fork, would
    # unwind it with a traceback); the parent stops the rest and cleans up
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)


_WORK: Callable[[Any], Any] | None = None


def _call(item: Any) -> Any:
    assert _WORK is not None
    return _WORK(item)
