"""One pricing run from files to a finished Report (and, for per-record formats, written records), in one
process or in forked workers over spans of the input: the output is the same either way.

The CLI picks the format and where output goes; this module owns how the records flow.
"""

from __future__ import annotations

import io
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import IO, Any

import orjson

from ..engines import parallel
from ..engines.choose import input_bytes
from ..engines.streaming import Outcome, Priced, PricingEngine
from ..reading.jsonl import ReadPosition, Span, expand_paths, max_line_bytes, read_usage
from ..reading.records import LineResult
from .aggregate import Report, ReportBuilder, raw_request_id
from .output import run_directory

_BOM = b"\xef\xbb\xbf"

# Inputs at least this large find their repeated request ids first (engines.request_ids) when de-duplicating, so
# that the Python engine remembers only those: a scan with a fixed cost in time and memory (DuckDB's reader,
# about 150 MB), which pays once the set of every id would be larger (about 150 bytes an id).
REPEATED_MIN_BYTES = 64 << 20


# A per-record writer: (outcomes, binary stream, first span?) → writes them.
RecordWriter = Callable[[Iterable[Outcome], IO[bytes], bool], None]


@dataclass
class PriceRun:
    engine: PricingEngine
    make_builder: Callable[[], ReportBuilder]
    writer: RecordWriter | None = None  # None: aggregate report only
    keep_rejects: bool = False
    # a progress display: (items, how far the read has got, lines each item stands for) → the same items; items
    # are input lines in one process, finished spans with --jobs
    progress: Callable[[Iterable[Any], ReadPosition, Callable[[Any], int]], Iterable[Any]] | None = None
    # the request ids met on more than one line (engines.request_ids), once found: de-duplication remembers only
    # those
    repeated: set[str] | None = None
    # the report's file, if any: worker parts are kept in a run directory beside it (removed however a run ends)
    parts_beside: str | None = None
    _parts: str | None = None
    # with --jobs and de-duplication: per span, the request ids an earlier span met first (``_first_seen``)
    _seen_before: list[dict[str, tuple[str, int]]] | None = None

    def execute(self, paths: list[str], out: IO[bytes] | None, rejects_out: IO[bytes] | None,
                jobs: int | None = 1) -> Report:
        # aggregate reports without --rejects need line numbers only for the rejections they list, which are
        # fixed up after the merge: no counting pass over the input first
        numbered = self.writer is not None or self.keep_rejects
        if self.repeated is None and input_bytes(paths) >= REPEATED_MIN_BYTES and self.make_builder().dedupe:
            from ..engines.request_ids import first_lines_carry_ids, repeated_request_ids

            files = expand_paths(paths)
            if first_lines_carry_ids(files):
                self.repeated = repeated_request_ids(files)
        # an aggregate report's default plan (jobs None) with ids known to repeat is one process: the first pass
        # that finds where each repeated request comes first (``_first_seen``) costs more than a second core saves
        one = jobs == 1 or (jobs is None and self.writer is None and bool(self.repeated))
        spans = None if one else parallel.plan(paths, jobs, numbered=numbered)
        if spans is None:
            builder = self._builder()
            position = ReadPosition(expand_paths(paths)) if self.progress is not None else None
            self._one(builder, read_usage(paths, position=position), out, rejects_out, first=True, position=position)
            return builder.finish()
        with run_directory(self.parts_beside) as parts:
            self._parts = parts  # forked workers write their parts there
            return self._execute_spans(paths, spans, out, rejects_out, jobs, numbered)

    def _execute_spans(self, paths: list[str], spans: list[Span], out: IO[bytes] | None,
                       rejects_out: IO[bytes] | None, jobs: int | None, numbered: bool) -> Report:
        builder = self._builder()
        # de-duplicating with ids that may repeat: where each request comes first, so that every span keeps or
        # drops its records as one process would
        self._seen_before = self._first_seen(spans, jobs) if builder.dedupe and self.repeated != set() else None
        results: Iterable[Any] = parallel.run(list(enumerate(spans)), jobs, self._worker)
        if self.progress is not None:
            position = ReadPosition(expand_paths(paths))
            results = self.progress(_spans_done(results, spans, position), position, lambda result: result[4])
        offset, path_now = 0, None
        for span, (report, warnings, out_path, rejects_path, lines) in zip(spans, results):  # as each span ends
            if not numbered:
                if span[0] != path_now:
                    offset, path_now = 0, span[0]
                if offset:
                    report.rejected = [replace(r, line=r.line + offset) for r in report.rejected]
                offset += lines
            builder.merge(report)
            for w, where in warnings.items():
                self.engine.warnings.setdefault(w, where)
            for path, target in ((out_path, out), (rejects_path, rejects_out)):
                if path is not None:
                    if target is not None:
                        with open(path, "rb") as fh:
                            shutil.copyfileobj(fh, target, 1 << 20)
                    os.unlink(path)
        return builder.finish()

    def execute_duckdb(self, paths: list[str], rejects_out: IO[bytes] | None) -> Report:
        """An aggregate report with the DuckDB engine; the lines it leaves go through the Python engine here.
        Raises ``engines.contract.Unsupported`` before anything is counted when DuckDB cannot take the run."""
        from ..engines.duckdb_engine import run_aggregate
        from .aggregate import tz_name

        builder = self._builder()
        if builder.dedupe and builder.repeated is None:
            from ..engines.request_ids import first_lines_carry_ids, repeated_request_ids

            if first_lines_carry_ids(paths):
                builder.repeated = self.repeated = repeated_request_ids(paths)
        specs = builder.key_specs()
        done = run_aggregate(self.engine, paths, specs, since=builder.since, until=builder.until,
                             timeline_tz=tz_name(builder.tz) if builder.timeline else None, dedupe=builder.dedupe,
                             repeated=builder.repeated)
        builder.report.first_fields = lambda: self._first_priced_fields(paths)
        for row in done.sums:
            builder.add_sums(row)
        for outcome, count in done.unpriced:
            builder.add_unpriced(outcome, count)
        builder.add_filtered(done.filtered)
        builder.add_skipped(done.skipped)
        # one stream, in input order, through the same path as a Python run (window, rejects, pricing)
        seen: dict[str, tuple[str, int]] = {}  # Claude Code messages de-duplicate across files
        lines = itertools.chain.from_iterable(
            read_usage([entry[1]], seen=seen) if entry[0] == "python" else entry[2] for entry in done.files)
        self._one(builder, lines, None, rejects_out, first=False)
        return builder.finish()

    def execute_lines(self, lines: Iterable[LineResult], out: IO[bytes] | None,
                      rejects_out: IO[bytes] | None) -> Report:
        """A run over results read by someone else (a database's rows), in one process."""
        builder = self._builder()
        self._one(builder, lines, out, rejects_out, first=True)
        return builder.finish()

    def execute_sums(self, builder: ReportBuilder, lines: Iterable[LineResult],
                     rejects_out: IO[bytes] | None) -> Report:
        """Finish ``builder`` (fed sums by an engine that priced in a database) with the results it left."""
        self._one(builder, lines, None, rejects_out, first=False)
        return builder.finish()

    def _builder(self) -> ReportBuilder:
        builder = self.make_builder()
        builder.repeated = self.repeated
        return builder

    def _one(self, builder: ReportBuilder, lines: Iterable[LineResult], out: IO[bytes] | None,
             rejects_out: IO[bytes] | None, first: bool, position: ReadPosition | None = None) -> None:
        from .render import write_rejects

        results: Iterable[Any] = builder.window(lines)
        if self.progress is not None and position is not None:
            results = self.progress(results, position, _one_line)
        if rejects_out is not None:
            results = write_rejects(results, rejects_out)
        if self.writer is None:
            builder.consume_results(results, self.engine)
        else:
            assert out is not None
            self.writer(builder.passthrough(self.engine.outcomes(results)), out, first)

    def _first_priced_fields(self, paths: list[str]) -> set[str]:
        """The field paths of the first record the Python engine prices that has any (what its report suggests
        group keys from), found by pricing the input from the start until one is priced."""
        from .aggregate import field_paths

        for o in self.engine.outcomes(self.make_builder().window(read_usage(paths))):
            if isinstance(o, Priced) and o.record.raw:
                fields = field_paths(o.record.raw)
                if fields:
                    return set(fields)
        return set()

    def _worker(self, item: tuple[int, Span]) -> tuple[Report, dict[str, str], str | None, str | None, int]:
        """Price one span in a forked worker: a partial report, the warnings met, and temp files of output."""
        index, span = item
        self.engine.warnings.clear()
        self.progress = None
        builder = self._builder()
        if self._seen_before is not None:
            builder.report.request_ids = self._seen_before[index]
        out_path = rejects_path = None
        out_fh = rejects_fh = None
        try:
            if self.writer is not None:
                fd, out_path = tempfile.mkstemp(prefix=f"{index}-", suffix=".part", dir=self._parts)
                out_fh = os.fdopen(fd, "wb")
            if self.keep_rejects:
                fd, rejects_path = tempfile.mkstemp(prefix=f"{index}-", suffix=".rejects", dir=self._parts)
                rejects_fh = os.fdopen(fd, "wb")
            counts: list[int] = []
            self._one(builder, read_usage([], spans=[span], line_counts=counts), out_fh, rejects_fh,
                      first=index == 0)
        finally:
            for fh in (out_fh, rejects_fh):
                if fh is not None:
                    fh.close()
        report = builder.report
        report.request_ids = {}  # the parent needs none of them (``_first_seen`` settled every span's duplicates)
        return report, dict(self.engine.warnings), out_path, rejects_path, sum(counts)

    def _first_seen(self, spans: list[Span], jobs: int | None) -> list[dict[str, tuple[str, int]]]:
        """For each span, the request ids met first in an earlier span, with where (file, line): a first pass
        over every span but the last, in forked workers, through the same window as pricing (a request left out
        by --since/--until/--where, or a rejected line, does not come first)."""
        firsts: dict[str, tuple[str, int]] = {}
        before: list[dict[str, tuple[str, int]]] = [{}]
        for found in parallel.run(spans[:-1], jobs, self._span_ids):
            for rid, where in found.items():
                firsts.setdefault(rid, where)
            before.append(dict(firsts))
        return before

    def _span_ids(self, span: Span) -> dict[str, tuple[str, int]]:
        """The request ids a span's records carry, each with its first (file, line) in the span (only the ids
        that repeat, when those are known: then only the lines that name one are read as records)."""
        builder = self._builder()
        lines = read_usage([], spans=[span] if self.repeated is None else _lines_naming(span, self.repeated))
        for _ in builder.window(lines):
            pass
        return builder.report.request_ids


def _lines_naming(span: Span, ids: set[str]) -> Iterator[Span]:
    """The lines of ``span`` (as one-line spans) whose JSON object names one of ``ids`` as its request id, and
    every line that is no JSON object (too long, unreadable or another value: read_usage decides what they
    are). A line's record carries the id its object names: the premise the set of repeated ids was found on
    (engines.request_ids reads each line's id from its JSON as ``request_id`` does)."""
    path, start, end, number = span
    limit, loads, error = max_line_bytes(), orjson.loads, orjson.JSONDecodeError
    with open(path, "rb") as fh:
        fh.seek(start)
        pos = start
        while end is None or pos < end:
            text = fh.readline(limit + 2)
            if not text:
                return
            size, whole = len(text), text[-1:] == b"\n"
            while text[-1:] != b"\n":  # a line over the limit: read_usage rejects it; skip it in bounded pieces
                more = fh.readline(1 << 20)
                if not more:
                    break
                size, text = size + len(more), more
            candidate = not whole and size > limit
            if not candidate:
                body = text[3:] if pos == 0 and text[:3] == _BOM else text
                try:
                    obj = loads(body)
                except error:
                    candidate = bool(body.strip())
                else:
                    candidate = obj.__class__ is not dict or raw_request_id(obj) in ids
            if candidate:
                yield path, pos, pos + size, number
            pos += size
            number += 1


def _one_line(result: Any) -> int:
    return 1


def _spans_done(results: Iterable[Any], spans: list[Span], position: ReadPosition) -> Iterator[Any]:
    """Worker results, moving ``position`` past each span as its result arrives (spans finish in order)."""
    for result, (path, start, end, _) in zip(results, spans):
        position.done += (os.path.getsize(path) if end is None else end) - start
        yield result


def text_writer(write: Callable[[Iterable[Outcome], IO[str], bool], None]) -> RecordWriter:
    """Adapt a writer of text (csv, explain) to the binary streams runs write to."""
    def writer(outcomes: Iterable[Outcome], out: IO[bytes], first: bool) -> None:
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        try:
            write(outcomes, text, first)
            text.flush()
        finally:
            text.detach()

    return writer
