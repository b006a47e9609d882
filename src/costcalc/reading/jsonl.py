"""Reading usage files: JSONL (plain, gzip, UTF-16/32, stdin; files and directories; byte spans for parallel
workers) → one ``LineResult`` per non-blank line, in input order, with Claude Code's streamed messages
de-duplicated. What a line means is decided by ``records`` (canonical) and ``shapes`` (every other log shape).
"""

from __future__ import annotations

import gzip
import io
import os
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from ..errors import UsageInputError
from .cloudwatch import exported_message
from .csvfile import is_csv, read_csv
from .parquet import is_parquet, read_parquet
from .records import _BOM, BadField, LineResult, Rejected, Skipped, UsageRecord, canonical, read_object
from .shapes import adapt as detect_shape

_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\x28\xb5\x2f\xfd", "zstd"))


def compression_of(head: bytes) -> str | None:
    """The compression a file's first bytes announce (gzip, bz2, zstd), whatever its name says; else None."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def _decompressed(raw: IO[bytes], kind: str, shown: str) -> IO[bytes]:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if kind == "bz2":
        import bz2

        return bz2.BZ2File(raw)  # type: ignore[return-value]
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+
    except ImportError:
        raise UsageInputError(
            f"{shown}: zstd-compressed, and this Python ({sys.version.split()[0]}) has no zstd reader "
            f"(compression.zstd, Python 3.14+): decompress first, e.g. zstd -dc FILE | costcalc price -") from None
    return zstd.ZstdFile(raw)  # type: ignore[no-any-return]


def _open(path: str) -> tuple[str, IO[bytes]]:
    if path == "-":
        stdin = sys.stdin.buffer
        peek = getattr(stdin, "peek", None)
        head = peek(4)[:4] if peek is not None else b""
        kind = compression_of(head)
        if kind is not None:
            return "<stdin>", _decompressed(stdin, kind, "<stdin>")
        encoding = text_encoding(head)
        return "<stdin>", stdin if encoding is None else _Transcoded(stdin, encoding, "<stdin>")  # type: ignore
    p = Path(path)
    shown = printable_path(path)
    try:
        raw = p.open("rb")
    except OSError as exc:
        raise UsageInputError(f"{shown}: cannot open ({exc.strerror})") from None
    head = raw.peek(4)[:4]  # peek, not read and seek: the path may be a pipe
    kind = compression_of(head)
    if kind is not None:
        stream = _decompressed(raw, kind, shown)
        stream.stored = raw  # type: ignore[attr-defined]  # for ReadPosition: bytes read as stored
        return shown, stream
    encoding = text_encoding(head)
    if encoding is not None:
        return shown, _Transcoded(raw, encoding, shown)  # type: ignore[return-value]
    return shown, raw


def printable_path(path: str) -> str:
    """A file name as reports show it: bytes that are not UTF-8 (kept by the OS as surrogates) become U+FFFD,
    so that the name can be written to JSON and terminals."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


_UTF16_32_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
                  (b"\xfe\xff", "utf-16"))


def text_encoding(head: bytes) -> str | None:
    """The encoding of a file that starts with a UTF-16 or UTF-32 byte order mark (Windows tools write UTF-16),
    else None (UTF-8)."""
    for bom, encoding in _UTF16_32_BOMS:
        if head.startswith(bom):
            return encoding
    return None


class _Transcoded:
    """A UTF-16/32 file read as UTF-8 lines, split on LF only as for UTF-8 files. Text that does not decode
    (a lone surrogate) stays in its line, which is then rejected as not valid UTF-8."""

    def __init__(self, raw: IO[bytes], encoding: str, path: str):
        self.raw, self.path = raw, path
        self.text = io.TextIOWrapper(raw, encoding=encoding, errors="surrogatepass", newline="\n")

    def __iter__(self) -> Iterator[bytes]:
        try:
            for line in self.text:
                yield line.encode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise UsageInputError(f"{self.path}: not valid {self.text.encoding.upper()} ({exc.reason})") from None

    def close(self) -> None:
        self.text.close()


# what a directory is searched for: every name the readers take as JSON (lines, or one document: a .json array),
# plain or compressed, and Parquet; CSV only when named (a CSV report written beside the logs would be read as usage)
USAGE_SUFFIXES = (*(f"{ext}{z}" for ext in (".jsonl", ".ndjson", ".json") for z in ("", ".gz", ".bz2", ".zst")),
                  ".parquet")


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Directories are walked for usage files (``USAGE_SUFFIXES``: ``*.jsonl``, ``*.ndjson``, ``*.json``, plain or
    ``.gz``/``.bz2``/``.zst``, and ``*.parquet``), sorted, so runs are reproducible; a directory that holds none is
    an error, not an empty report."""
    out: list[str] = []
    for path in paths:
        if not path.strip():
            raise UsageInputError(f"{path!r}: not a file name")
        p = Path(path)
        if path != "-" and p.is_dir():
            found = sorted(_walk(p))
            if not found:
                raise UsageInputError(f"{printable_path(path)}: directory holds no usage files (looked for "
                                      "*.jsonl, *.ndjson and *.json, plain or .gz/.bz2/.zst, and *.parquet, in "
                                      "every subdirectory); name the files to read")
            out.extend(str(x) for x in found)
        else:
            out.append(path)
    return out


def _walk(top: Path) -> Iterator[Path]:
    """The usage files under ``top``; symlinked directories are not followed (no loops), and a directory that
    cannot be read is an error, not a silent gap."""
    def fail(exc: OSError) -> None:
        raise UsageInputError(f"{exc.filename}: cannot read directory ({exc.strerror})")

    for folder, _, names in os.walk(top, onerror=fail):
        for name in names:
            if name.endswith(USAGE_SUFFIXES) and os.path.isfile(os.path.join(folder, name)):
                yield Path(folder, name)


def _close_span(stream: IO[bytes], position: ReadPosition | None) -> None:
    """Close a file span (never standard input) and mark its bytes as done for the progress bar."""
    if position is not None:
        position.done = position.bytes_read()
        position.current = None
    if stream is not sys.stdin.buffer:
        stream.close()


def _open_span(path: str, start: int) -> tuple[str, IO[bytes], Any]:
    """(shown name, stream to close, line reader positioned at ``start``)."""
    shown, stream = _open(path)
    reader = stream if isinstance(stream, (io.BufferedReader, _Transcoded)) or stream is sys.stdin.buffer \
        else io.BufferedReader(stream, buffer_size=1 << 20)  # type: ignore[arg-type]
    if start:
        reader.seek(start)
    return shown, stream, reader


def _bounded(reader: Any, budget: int) -> Iterator[bytes]:
    """The lines that begin within the next ``budget`` bytes."""
    for raw in reader:
        if budget <= 0:
            return
        budget -= len(raw)
        yield raw


#: ``adapt`` value meaning "recognise every log shape of SPEC §1.3 per line" (``shapes.adapt``), the default.
#: ``adapt=None`` reads canonical records only.
DETECT_SHAPES = "detect"

#: The longest line read (bytes, line end excluded): a longer one is rejected with its number, and skipped without
#: being held (``COSTCALC_MAX_LINE_BYTES`` changes it). An input with no line end within ``SKIP_LINES_UP_TO`` times
#: the limit (``/dev/zero``) is not JSONL: its read ends with an error.
MAX_LINE_BYTES = 16 << 20
SKIP_LINES_UP_TO = 64
MAX_LINE_ENV = "COSTCALC_MAX_LINE_BYTES"
#: The deepest nesting of arrays and objects a line may have (the record itself is level 1); deeper lines are
#: rejected by every engine.
MAX_JSON_DEPTH = 64
_CHUNK = 1 << 17
_ESCAPED_COLON = re.compile(rb"\\u003[aA]")
_BLANK_RUN = re.compile(rb"[ \t\r\n]*\n")


def max_line_bytes() -> int:
    """The line-length limit in force: ``COSTCALC_MAX_LINE_BYTES`` (bytes, or with a K/M/G suffix), else 16 MiB."""
    text = os.environ.get(MAX_LINE_ENV, "").strip().upper()
    if not text:
        return MAX_LINE_BYTES
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:].rstrip("B") or text[-2:-1], 1)
    digits = text.rstrip("KMGIB")
    if not digits.isdigit() or int(digits) <= 0:
        raise UsageInputError(f"${MAX_LINE_ENV}: {text!r} is not a number of bytes (e.g. 16M)")
    return int(digits) * scale


class LineTooLong:
    """A line past the length limit, skipped unread: the reader rejects it with its number."""

    __slots__ = ("size",)

    def __init__(self, size: int):
        self.size = size


def _line_batches(read: Any, budget: int | None, limit: int, shown: str) -> Iterator[list[Any]]:
    """The lines of a byte stream, a list per chunk read, so that no line longer than ``limit`` is ever held: each
    line's bytes (with or without its line end), an int for a run of that many blank lines (skipped in bulk: a
    gigabyte of newlines takes seconds, not minutes), or a ``LineTooLong`` for an over-long line, which is read
    past in chunks. ``budget``: only the lines that begin within this many bytes. The common chunk (no blank
    line, no CR) is split in one call."""
    parts: list[bytes] = []  # the start of a line that continues in the next chunk
    held = 0  # their length
    consumed = 0  # bytes of the stream before the current chunk (and ``parts``)
    skipping = -1  # >= 0: inside an over-long line, this many bytes of it read so far
    give_up = limit * SKIP_LINES_UP_TO
    while True:
        buf = read(_CHUNK)
        batch: list[Any] = []
        if not buf:
            if skipping >= 0:
                batch.append(LineTooLong(skipping))
            elif parts and (budget is None or consumed - held < budget):
                batch.append(b"".join(parts))
            if batch:
                yield batch
            return
        pos, size = 0, len(buf)
        if skipping >= 0 or parts:
            end = buf.find(b"\n")
            if end < 0:
                if skipping < 0 and held + size <= limit:
                    parts.append(buf)
                    held += size
                else:
                    skipping = (skipping if skipping >= 0 else held) + size
                    parts, held = [], 0
                    if skipping > give_up:
                        raise UsageInputError(f"{shown}: a line runs past {give_up:,} bytes with no line end: "
                                              f"not JSONL (lines are limited to {limit:,} bytes, ${MAX_LINE_ENV})")
                consumed += size
                continue
            if skipping >= 0 or held + end > limit:
                batch.append(LineTooLong((skipping if skipping >= 0 else held) + end))
            else:
                parts.append(buf[:end + 1])
                batch.append(b"".join(parts))
            parts, held, skipping = [], 0, -1
            pos = end + 1
        if size <= limit and (budget is None or consumed + size <= budget) and buf.find(b"\r") < 0 \
                and buf.find(b"\n\n", pos) < 0 and buf[pos:pos + 1] != b"\n":
            cut = buf.rfind(b"\n")
            if cut >= pos:  # every line here is shorter than the chunk, hence than the limit
                batch.extend(buf[pos:cut].split(b"\n"))
                pos = cut + 1
        while pos < size:
            if budget is not None and consumed + pos >= budget:
                if batch:
                    yield batch
                return
            if buf[pos] in b"\n\r \t":
                m = _BLANK_RUN.match(buf, pos)
                if m is not None:
                    end = m.end()
                    if budget is not None:  # a span's blank lines end where the next span begins
                        end = min(end, budget - consumed)
                    batch.append(buf.count(b"\n", pos, end))
                    pos = end
                    continue
            end = buf.find(b"\n", pos)
            if end < 0:
                held = size - pos
                if held > limit:
                    skipping, held = held, 0
                else:
                    parts.append(buf[pos:])
                break
            if end - pos > limit:
                batch.append(LineTooLong(end - pos))
            else:
                batch.append(buf[pos:end + 1])
            pos = end + 1
        consumed += size
        if batch:
            yield batch


def numbered_lines(stream: Any, shown: str) -> Iterator[tuple[int, Any]]:
    """(line number, bytes, or a ``LineTooLong``) of each line of a byte stream that holds more than white
    space, read in bounded chunks as ``read_usage`` reads."""
    line = 0
    for batch in _line_batches(getattr(stream, "read1", stream.read), None, max_line_bytes(), shown):
        for text in batch:
            if text.__class__ is int:
                line += text
                continue
            line += 1
            if text.__class__ is not bytes or text.strip(b" \t\r\n"):
                yield line, text


def too_long(file: str, line: int, text: LineTooLong) -> Rejected:
    return Rejected(file, line, f"line of {text.size:,} bytes, longer than the limit of {max_line_bytes():,} "
                    f"(${MAX_LINE_ENV}); skipped unread", b"")


def structure_problem(text: bytes, obj: Any) -> str | None:
    """Why a parsed JSON line cannot be read the same way by every engine, else None: a key repeated in an object
    (orjson keeps the last value, DuckDB the first) or nesting deeper than ``MAX_JSON_DEPTH``. Cheap for the
    common line: its ``":`` count against orjson's own writing of the object; an exact parse only on a mismatch."""
    if text.count(b"{") + text.count(b"[") > MAX_JSON_DEPTH and _depth(obj) > MAX_JSON_DEPTH:
        return f"nested deeper than {MAX_JSON_DEPTH} levels (the limit every engine reads)"
    written = orjson.dumps(obj)
    if written == text:  # the line as orjson writes it (a compact export): orjson writes each key it kept once
        return None
    # every key is followed by one colon, and orjson writes each key it kept once, and every colon inside a
    # string as a colon: a repeated key leaves the text with more colons than orjson's writing, unless the
    # text spells a colon as \u003a somewhere
    if text.count(b":") == written.count(b":") and not (b"\\u" in text and _ESCAPED_COLON.search(text)):
        return None
    key = _repeated_key(text)
    if key is None:
        return None
    return f"repeated key {printable_key(key)} in one object (engines differ on which value wins)"


def printable_key(key: str) -> str:
    return orjson.dumps(key[:80]).decode()


def _depth(obj: Any) -> int:
    deepest, stack = 0, [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > MAX_JSON_DEPTH:
                return deepest
        if value.__class__ is dict:
            stack.extend((v, depth + 1) for v in value.values())
        elif value.__class__ is list:
            stack.extend((v, depth + 1) for v in value)
    return deepest


class _Repeated(Exception):
    pass


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Repeated(key)
            seen.add(key)
    return out


def _repeated_key(text: bytes) -> str | None:
    import json

    try:
        json.loads(text, object_pairs_hook=_no_repeats)
    except _Repeated as exc:
        return str(exc.args[0])
    except (ValueError, RecursionError):
        return None
    return None


def parse_line(file: str, line: int, text: bytes, adapt: Any = None) -> LineResult | list[LineResult]:
    """One line → record, rejection or skip (a list of them for a line that holds several records: an OTLP
    export's spans, a usage API page's buckets). ``adapt`` maps a non-canonical object (see ``shapes.py``)."""
    try:
        # a UTF-8 BOM is accepted at the start of any line, not just the file's first (``cat`` of BOM files)
        obj = orjson.loads(text[3:] if text[:3] == _BOM else text)
    except orjson.JSONDecodeError as exc:
        message = exported_message(text)
        if message is not None:  # a line of CloudWatch Logs exported to S3: "<timestamp> <json>"
            return parse_line(file, line, message, adapt)
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            return Rejected(file, line, "not valid UTF-8", text)
        return Rejected(file, line, f"not valid JSON ({str(exc).split(':')[0]})", text)
    if not isinstance(obj, dict):
        return Rejected(file, line, f"not a JSON object (got {type(obj).__name__})", text)
    problem = structure_problem(text, obj)
    if problem is not None:
        return Rejected(file, line, problem, text, obj.get("model") if isinstance(obj.get("model"), str) else None)
    try:
        if adapt is not None:
            return adapt(obj, file, line, text)
        return canonical(obj, file, line)
    except BadField as exc:
        model = obj.get("model") if isinstance(obj.get("model"), str) else None
        return Rejected(file, line, str(exc), text, model)


def parse_numbered(file: str, lines: Iterable[tuple[int, bytes]],
                   adapt: Any = DETECT_SHAPES) -> Iterator[LineResult]:
    """Lines picked out of a file by number (the lines another engine leaves to this one), each read exactly as
    ``read_usage`` reads it: line ends and a first-line BOM dropped, blank lines skipped."""
    if adapt == DETECT_SHAPES:
        adapt = detect_shape
    for line, text in lines:
        if isinstance(text, LineTooLong):
            yield too_long(file, line, text)
            continue
        if text[-1:] == b"\n":
            text = text[:-2] if text[-2:-1] == b"\r" else text[:-1]
        if line == 1 and text[:3] == _BOM:
            text = text[3:]
        if not text.strip():
            continue
        result = parse_line(file, line, text, adapt)
        if result.__class__ is list:
            yield from result  # type: ignore[misc]
        else:
            yield result  # type: ignore[misc]




class ReadPosition:
    """How far a read has got, in bytes as stored (compressed bytes for compressed files), for a progress bar
    with percent and ETA; ``total`` is None when the size cannot be known (stdin, pipes)."""

    def __init__(self, paths: Iterable[str]):
        total = 0
        for path in paths:
            try:
                st = os.stat(path) if path != "-" else None
            except OSError:
                st = None
            if st is None or not os.path.isfile(path):
                self.total: int | None = None
                break
            total += st.st_size
        else:
            self.total = total
        self.done = 0
        self.current: Any = None

    def bytes_read(self) -> int:
        current = self.current
        if current is None:
            return self.done
        try:
            return self.done + getattr(current, "stored", current).tell()
        except (OSError, ValueError, AttributeError):
            return self.done


def read_usage(paths: Iterable[str], adapt: Any = DETECT_SHAPES, spans: Iterable[Span] | None = None,
               line_counts: list[int] | None = None, position: ReadPosition | None = None,
               seen: dict[str, tuple[str, int]] | None = None) -> Iterator[LineResult]:
    """Every non-blank line of every file as a record, rejection or skip, in input order.

    Records that carry a ``dedup_key`` (a message a log writes several times) go through ``_supersede``:
    the last line written for a message wins and stands at that line's position. From a file's first such
    record on, that file's results are held until its end and then released in line order (transcripts are
    small); everything else streams straight through, so the canonical path pays one attribute test per line.
    ``spans`` (path, start, end, first line) replaces ``paths`` to read parts of files (parallel workers);
    ``line_counts`` receives the number of lines each span held; ``position`` follows the bytes read. ``seen``
    carries the de-duplication keys already released across calls (files read one call each, as one input).
    """
    if adapt == DETECT_SHAPES:
        adapt = detect_shape
    if seen is None:
        seen = {}
    # locals: this loop runs once per input line; the common case is inlined, every other path goes
    # through parse_line, which builds the rejection
    parse, loads, decode_error, record_type = parse_line, orjson.loads, orjson.JSONDecodeError, UsageRecord
    structure, limit = structure_problem, max_line_bytes()
    read = adapt if adapt is not None else (lambda obj, file, line, text: canonical(obj, file, line))
    for path, start, end, first in _spans(paths, spans):
        if start == 0 and (is_csv(path) or is_parquet(path)):
            rows = (read_csv(path, printable_path(path), read) if is_csv(path)
                    else read_parquet(path, printable_path(path)))
            if line_counts is None:
                yield from rows
            else:
                counted = list(rows)
                line_counts.append(counted[-1].line if counted else 0)
                yield from counted
            continue
        held: dict[str, UsageRecord] = {}
        buffered: list[LineResult] | None = None
        file, stream, reader = _open_span(path, start)
        if position is not None:
            position.current = stream
        if start == 0:
            elements, reader = _json_document(reader, file)
            if elements is not None:
                try:
                    yield from _array_results(elements, file, read)
                finally:
                    _close_span(stream, position)
                if line_counts is not None:
                    line_counts.append(len(elements))
                continue
        if isinstance(reader, _Transcoded):
            batches: Any = ([text] for text in (reader if end is None else _bounded(reader, end - start)))
        else:
            batches = _line_batches(getattr(reader, "read1", reader.read), None if end is None else end - start,
                                    limit, file)
        line = first - 1
        bom_line = first if start == 0 else -1
        try:
            for batch in batches:
                for text in batch:
                    if text.__class__ is not bytes:
                        if text.__class__ is int:  # a run of blank lines
                            line += text
                            continue
                        line += 1
                        r = too_long(file, line, text)
                        if buffered is None:
                            yield r
                        else:
                            buffered.append(r)
                        continue
                    line += 1
                    if text[-1:] == b"\n":
                        text = text[:-2] if text[-2:-1] == b"\r" else text[:-1]
                    if line == bom_line and text[:3] == _BOM:
                        text = text[3:]
                    try:
                        obj = loads(text)
                        # a flat object with as many colons as keys has neither repeated keys nor depth
                        if obj.__class__ is not dict or ((text.find(b"[") >= 0 or text.count(b":") != len(obj))
                                                          and structure(text, obj) is not None):
                            r = parse(file, line, text, adapt)
                        else:
                            r = read(obj, file, line, text)
                    except decode_error:
                        if not text.strip():
                            continue  # blank lines are not records
                        r = parse(file, line, text, adapt)
                    except BadField:
                        r = parse(file, line, text, adapt)
                    if r.__class__ is record_type:
                        if r.dedup_key is not None:
                            if buffered is None:
                                buffered = []
                            skip = _supersede(held, seen, r.dedup_key, r)
                            if skip is not None:
                                buffered.append(skip)
                            continue
                    elif r.__class__ is list:  # a line holding several records (OTLP spans, usage buckets)
                        if buffered is None:
                            yield from r
                        else:
                            buffered.extend(r)
                        continue
                    if buffered is None:
                        yield r
                    else:
                        buffered.append(r)
        except (OSError, EOFError) as exc:
            raise UsageInputError(f"{file}: read failed ({exc})") from None
        finally:
            _close_span(stream, position)
        if line_counts is not None:
            line_counts.append(line - first + 1)
        if buffered is not None:
            for key, r in held.items():
                seen[key] = (r.file, r.line)
            buffered.extend(held.values())
            buffered.sort(key=lambda x: x.line)
            yield from buffered


def is_document(head: bytes) -> bool:
    """Whether a file whose first bytes are ``head`` is one JSON value written over several lines: an array
    (LiteLLM's ``/spend/logs`` answer, a Langfuse export) or a pretty-printed object (a usage API page saved
    with curl), which is read whole; a JSON lines file never breaks a line after its opening brace."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text[:1] == b"[" or (text[:1] == b"{" and text[1:].lstrip(b" \t\r")[:1] == b"\n")


def _json_document(reader: Any, file: str) -> tuple[list[Any] | None, Any]:
    """A whole file that is one JSON array (LiteLLM's ``/spend/logs`` API answer) or one pretty-printed JSON
    object (a usage API page, read as an array of that one object): its elements, each with why it is rejected (a
    repeated key, nesting too deep) or None, else None and a reader positioned where it was (an input that only
    starts like a document, or that is too big to hold, is read as lines after all)."""
    peek = getattr(reader, "peek", None)
    if peek is None:
        return None, reader
    try:
        head = peek(256)[:256]
    except (OSError, EOFError) as exc:
        raise UsageInputError(f"{file}: read failed ({exc})") from None
    if not is_document(head):
        return None, reader
    cap = max_line_bytes() * MAX_ARRAY_LINES
    try:
        data = reader.read(cap + 1)
    except (OSError, EOFError) as exc:
        raise UsageInputError(f"{file}: read failed ({exc})") from None
    if len(data) > cap:  # not held whole: read as lines (a JSON array this big is refused there, line by line)
        return None, _Chained(data, reader)
    text = data.lstrip(b" \t\r\n")
    if text[:3] == _BOM:
        text = text[3:]
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None, io.BytesIO(data)
    if isinstance(value, dict):  # one object: checked and read as a one-element array
        value, text = [value], b"[" + text + b"]"
    if not isinstance(value, list) or (value and not isinstance(value[0], dict)):
        return None, io.BytesIO(data)  # a line that is an array of numbers is a bad JSONL line, not records
    problems: dict[int, str] = {}
    if text.count(b"{") + text.count(b"[") > MAX_JSON_DEPTH:
        for n, obj in enumerate(value, 1):
            if _depth(obj) > MAX_JSON_DEPTH:
                problems[n] = f"nested deeper than {MAX_JSON_DEPTH} levels (the limit every engine reads)"
    if text.count(b":") != orjson.dumps(value).count(b":") or (b"\\u" in text and _ESCAPED_COLON.search(text)):
        for n, key in _repeated_by_element(text).items():
            problems.setdefault(n, f"repeated key {printable_key(key)} in one object (engines differ on which "
                                   "value wins)")
    return [(obj, problems.get(n)) for n, obj in enumerate(value, 1)], reader


#: A file that is one JSON array is read whole, up to this many times the line limit (256 MiB by default).
MAX_ARRAY_LINES = 16


class _Chained:
    """Bytes already read, then the rest of a stream."""

    def __init__(self, head: bytes, rest: Any):
        self.head, self.rest = head, rest

    def read1(self, size: int = -1) -> bytes:
        if self.head:
            out, self.head = self.head[:size], self.head[size:]
            return out
        return getattr(self.rest, "read1", self.rest.read)(size)

    read = read1


class _Checked(list):  # type: ignore[type-arg]
    """An object's pairs as the standard parser gives them, with the first repeated key found in it or below."""

    repeated: str | None = None


def _repeated_by_element(text: bytes) -> dict[int, str]:
    """The first repeated key of each element of a JSON array (1-based positions), by an exact parse."""
    import json

    def pairs(items: list[tuple[str, Any]]) -> _Checked:
        out = _Checked(items)
        seen: set[str] = set()
        for key, value in items:
            if key in seen:
                out.repeated = key
                return out
            seen.add(key)
            found = _repeated_in(value)
            if found is not None:
                out.repeated = found
                return out
        return out

    try:
        doc = json.loads(text, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return {}
    return {n: found for n, element in enumerate(doc, 1) if (found := _repeated_in(element)) is not None}


def _repeated_in(value: Any) -> str | None:
    if isinstance(value, _Checked):
        return value.repeated
    if isinstance(value, list):
        for item in value:
            found = _repeated_in(item)
            if found is not None:
                return found
    return None


def _array_results(elements: list[Any], file: str, read: Any) -> Iterator[LineResult]:
    """The records of a JSON array, numbered by position (element 1, 2, …) where lines are numbered."""
    for n, (obj, problem) in enumerate(elements, 1):
        text = orjson.dumps(obj)
        if problem is not None:
            model = obj.get("model") if isinstance(obj, dict) and isinstance(obj.get("model"), str) else None
            yield Rejected(file, n, problem, text, model)
            continue
        if not isinstance(obj, dict):
            yield Rejected(file, n, f"array element {n} is not a JSON object (got {type(obj).__name__})", text)
            continue
        yield from read_object(read, obj, file, n, text)


Span = tuple[str, int, int | None, int]  # (path, start byte, end byte or None, number of the first line)


def _spans(paths: Iterable[str], spans: Iterable[Span] | None) -> Iterator[Span]:
    if spans is not None:
        yield from spans
        return
    for path in expand_paths(paths):
        yield path, 0, None, 1


def _supersede(held: dict[str, UsageRecord], seen: dict[str, tuple[str, int]], key: str,
               r: UsageRecord) -> Skipped | None:
    """The de-duplication stage: within one file the LAST line written for a key wins (a streamed message's
    final usage) and earlier ones become skips. A key already released from an earlier file (a resumed
    session copies its history) is a skip too. Memory: one record per distinct key of the current file, plus
    the keys of earlier files."""
    if key in seen:
        file, line = seen[key]
        return Skipped(r.file, r.line, f"duplicate of {file}:{line} (same message id)")
    previous = held.get(key)
    held[key] = r  # an existing key keeps its first-seen position
    if previous is None:
        return None
    return Skipped(previous.file, previous.line,
                   f"duplicate of line {r.line}, superseded (same message id; streaming "
                   "writes a message more than once and the last line has the final usage)")
