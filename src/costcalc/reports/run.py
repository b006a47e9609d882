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

from ..engines import parallel
from ..engines.choose import input_bytes
from ..engines.streaming import Outcome, Priced, PricingEngine
from ..reading.jsonl import ReadPosition, Span, expand_paths, read_usage
from ..reading.records import LineResult
from .aggregate import Report, ReportBuilder
from .output import run_directory

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
        # a request met in two spans makes the run price again in one process: with ids known to repeat, the
        # default plan (jobs None) starts there
        one = jobs == 1 or (jobs is None and bool(self.repeated))
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
        results: Iterable[Any] = parallel.run(list(enumerate(spans)), jobs, self._worker)
        if self.progress is not None:
            position = ReadPosition(expand_paths(paths))
            results = self.progress(_spans_done(results, spans, position), position, lambda result: result[4])
        parts = list(zip(spans, results))
        if builder.dedupe and _shared_ids(report for _, (report, *_) in parts):
            # the same request in two spans: only one process can count it once, so price again in one
            for _, (_, _, out_path, rejects_path, _) in parts:
                for path in (out_path, rejects_path):
                    if path is not None:
                        os.unlink(path)
            return self.execute(paths, out, rejects_out, jobs=1)
        offset, path_now = 0, None
        for span, (report, warnings, out_path, rejects_path, lines) in parts:
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
        # the parent only checks whether two spans met the same id: hashes are enough (forked workers share
        # the hash seed) and a collision costs a second run in one process, never a wrong count
        report.request_ids = {hash(rid): ("", 0) for rid in report.request_ids}  # type: ignore[misc]
        return report, dict(self.engine.warnings), out_path, rejects_path, sum(counts)


def _one_line(result: Any) -> int:
    return 1


def _spans_done(results: Iterable[Any], spans: list[Span], position: ReadPosition) -> Iterator[Any]:
    """Worker results, moving ``position`` past each span as its result arrives (spans finish in order)."""
    for result, (path, start, end, _) in zip(results, spans):
        position.done += (os.path.getsize(path) if end is None else end) - start
        yield result


def _shared_ids(reports: Iterable[Report]) -> bool:
    """Whether two partial reports counted the same request id (by hash, see ``_worker``)."""
    seen: set[Any] = set()
    for report in reports:
        if not seen.isdisjoint(report.request_ids):
            return True
        seen.update(report.request_ids)
    return False


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
