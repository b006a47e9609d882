"""Usage JSONL → normalised UsageRecords, with file and line, streaming.

Every non-blank input line ends up as exactly one of: a ``UsageRecord``, a ``Rejected`` (with the reason
and the field), or a ``Skipped`` (valid JSON that carries no usage). Log shapes other than the canonical one
are recognised per line by the adapters in ``shapes.py`` and normalised to the same record.
"""

from __future__ import annotations

import gzip
import io
import math
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import orjson

from .errors import UsageInputError
from .resolve import REQUEST_PRICE_FIELDS

MAX_TOKENS = 2**53 - 1
_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class UsageRecord:
    """One call, in the canonical convention: prompt_tokens INCLUDES cache reads and writes, audio and image
    input; completion_tokens INCLUDES reasoning and audio output."""

    file: str
    line: int
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0  # part of cache_write_tokens written with the 1-hour TTL
    reasoning_tokens: int = 0
    audio_input_tokens: int = 0
    audio_output_tokens: int = 0
    image_input_tokens: int = 0
    duration_s: float | None = None
    model_id: str | None = None
    service_tier: str | None = None
    timestamp: float | None = None  # epoch seconds, UTC
    request_prices: tuple[tuple[str, float], ...] = ()
    recorded_cost: float | None = None  # what the log says was charged (spend / cost / costUSD)
    batch: bool = False
    shape: str = "canonical"
    raw: dict[str, Any] | None = None  # the original object, for dotted group-by paths and tags
    # identity of a message that a log writes more than once (Claude Code rewrites a message while it
    # streams); read_usage keeps only the last line per key in a file (see ``_supersede``)
    dedup_key: str | None = None

    @property
    def input_tokens(self) -> int:
        return self.prompt_tokens

    @property
    def uncached_input_tokens(self) -> int:
        return max(self.prompt_tokens - self.cache_read_tokens - self.cache_write_tokens, 0)


@dataclass(frozen=True, slots=True)
class Rejected:
    file: str
    line: int
    reason: str
    text: bytes  # the line verbatim, for --rejects
    model: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    file: str
    line: int
    reason: str


LineResult = UsageRecord | Rejected | Skipped


class BadField(ValueError):
    """A field that breaks the record contract; becomes a rejection naming the field."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")


# -- values -----------------------------------------------------------------------------------------

def token_count(obj: dict[str, Any], field: str, shown: str | None = None) -> int:
    """A whole number from 0 to 2^53-1 (``1200.0`` is whole; ``1.5``, ``-5``, ``"lots"``, ``1e30`` are not)."""
    value = obj.get(field)
    if value is None:
        return 0
    if type(value) is int and 0 <= value <= MAX_TOKENS:
        return value
    if type(value) is float and value.is_integer() and 0 <= value <= MAX_TOKENS:
        return int(value)
    raise BadField(shown or field, f"token count must be a whole number from 0 to 2^53-1, got {_show(value)}")


def _show(value: Any) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def number(value: Any, field: str, *, allow_negative: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadField(field, f"must be a number, got {_show(value)}")
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise BadField(field, "must be finite")
    if value < 0 and not allow_negative:
        raise BadField(field, f"must not be negative, got {value:g}")
    return value


def parse_time(value: Any, field: str) -> float:
    """ISO 8601 (``Z`` or offset; naive means UTC) or epoch seconds (milliseconds if implausibly large)."""
    if isinstance(value, bool):
        raise BadField(field, f"not a timestamp: {_show(value)}")
    if isinstance(value, (int, float)):
        t = float(value)
        if math.isnan(t) or math.isinf(t):
            raise BadField(field, "not a timestamp")
        return t / 1000.0 if t > 1e11 else t
    if isinstance(value, str):
        text = value.strip()
        try:
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            dt = datetime.fromisoformat(text)
        except ValueError:
            try:
                return parse_time(float(text), field)
            except ValueError:
                raise BadField(field, f"not an ISO 8601 time or epoch seconds: {_show(value)}") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.timestamp()
    raise BadField(field, f"not a timestamp: {_show(value)}")


def optional_str(obj: dict[str, Any], field: str) -> str | None:
    value = obj.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise BadField(field, f"must be a string, got {_show(value)}")


def request_prices(obj: dict[str, Any]) -> tuple[tuple[str, float], ...]:
    """Per-request custom prices carried by the record (highest precedence, as in a LiteLLM call)."""
    found = REQUEST_PRICE_FIELDS.intersection(obj)
    if not found:
        return ()
    prices = []
    for k in sorted(found):
        v = obj[k]
        if v is None:
            continue
        if k == "tiered_pricing":
            raise BadField(k, "per-request tiered_pricing is not supported; put it on a deployment")
        if isinstance(v, str):
            try:
                v = float(v)
            except ValueError:
                raise BadField(k, f"price must be a number, got {_show(v)}") from None
        prices.append((k, number(v, k)))
    return tuple(prices)


def duration(obj: dict[str, Any]) -> float | None:
    if obj.get("duration_s") is not None:
        return number(obj["duration_s"], "duration_s")
    if obj.get("response_time_ms") is not None:
        return number(obj["response_time_ms"], "response_time_ms") / 1000.0
    start, end = obj.get("startTime"), obj.get("endTime")
    if start is not None and end is not None:
        seconds = parse_time(end, "endTime") - parse_time(start, "startTime")
        if seconds < 0:
            raise BadField("endTime", "is before startTime (negative duration)")
        return seconds
    return None


def check_conventions(r: UsageRecord, names: dict[str, str] | None = None) -> None:
    """Reject counts that break their own convention: parts larger than the total they belong to."""
    n = names or {}
    if r.cache_read_tokens + r.cache_write_tokens > r.prompt_tokens:
        raise BadField(n.get("cache", "cache_read_input_tokens"),
                       f"cache-read plus cache-write tokens ({r.cache_read_tokens} + {r.cache_write_tokens}) "
                       f"exceed prompt_tokens ({r.prompt_tokens})")
    if r.cache_write_1h_tokens > r.cache_write_tokens:
        raise BadField(n.get("cache_1h", "cache_creation_1h_input_tokens"),
                       f"1-hour cache writes ({r.cache_write_1h_tokens}) exceed cache-write tokens "
                       f"({r.cache_write_tokens})")
    if r.reasoning_tokens > r.completion_tokens:
        raise BadField(n.get("reasoning", "reasoning_tokens"),
                       f"reasoning tokens ({r.reasoning_tokens}) exceed completion_tokens ({r.completion_tokens})")
    if r.audio_output_tokens > r.completion_tokens:
        raise BadField(n.get("audio_out", "audio_output_tokens"),
                       f"audio output tokens ({r.audio_output_tokens}) exceed completion_tokens "
                       f"({r.completion_tokens})")
    if r.audio_input_tokens > r.prompt_tokens or r.image_input_tokens > r.prompt_tokens:
        raise BadField(n.get("audio_in", "audio_input_tokens"), "audio or image input tokens exceed prompt_tokens")


# -- the canonical shape ----------------------------------------------------------------------------

def canonical(obj: dict[str, Any], file: str, line: int) -> UsageRecord:
    model = obj.get("model")
    if not isinstance(model, str) or not model.strip():
        raise BadField("model", "missing or not a string")
    cache_1h = obj.get("cache_creation_1h_input_tokens")
    cache_creation = obj.get("cache_creation")
    record = UsageRecord(
        file=file,
        line=line,
        model=model.strip(),
        prompt_tokens=token_count(obj, "prompt_tokens"),
        completion_tokens=token_count(obj, "completion_tokens"),
        cache_read_tokens=token_count(obj, "cache_read_input_tokens"),
        cache_write_tokens=token_count(obj, "cache_creation_input_tokens"),
        reasoning_tokens=token_count(obj, "reasoning_tokens"),
        audio_input_tokens=token_count(obj, "audio_input_tokens"),
        audio_output_tokens=token_count(obj, "audio_output_tokens"),
        image_input_tokens=token_count(obj, "image_input_tokens"),
        duration_s=duration(obj),
        model_id=optional_str(obj, "model_id"),
        service_tier=optional_str(obj, "service_tier"),
        timestamp=parse_time(obj["timestamp"], "timestamp") if obj.get("timestamp") is not None else None,
        request_prices=request_prices(obj),
        recorded_cost=_recorded_cost(obj),
        batch=obj.get("batch") is True,
        raw=obj,
    )
    if cache_1h is not None:
        record.cache_write_1h_tokens = token_count(obj, "cache_creation_1h_input_tokens")
    elif isinstance(cache_creation, dict):
        record.cache_write_1h_tokens = token_count(cache_creation, "ephemeral_1h_input_tokens",
                                                   "cache_creation.ephemeral_1h_input_tokens")
    check_conventions(record)
    return record


def _recorded_cost(obj: dict[str, Any]) -> float | None:
    for field in ("spend", "cost", "costUSD", "response_cost"):
        value = obj.get(field)
        if value is not None:
            return number(value, field, allow_negative=False)
    return None


# -- reading ----------------------------------------------------------------------------------------

def _open(path: str) -> tuple[str, IO[bytes]]:
    if path == "-":
        return "<stdin>", sys.stdin.buffer
    p = Path(path)
    try:
        raw = p.open("rb")
    except OSError as exc:
        raise UsageInputError(f"{path}: cannot open ({exc.strerror})") from None
    head = raw.read(2)
    raw.seek(0)
    if head == b"\x1f\x8b":
        return path, gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    return path, raw


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Directories are walked for ``*.jsonl`` (and ``*.jsonl.gz``), sorted, so runs are reproducible."""
    out: list[str] = []
    for path in paths:
        p = Path(path)
        if path != "-" and p.is_dir():
            found = sorted(x for x in p.rglob("*") if x.is_file() and x.name.endswith((".jsonl", ".jsonl.gz")))
            out.extend(str(x) for x in found)
        else:
            out.append(path)
    return out


def iter_lines(path: str) -> Iterator[tuple[str, int, bytes]]:
    """(shown file name, 1-based line number, line without its end) for every non-blank line."""
    shown, stream = _open(path)
    try:
        reader = io.BufferedReader(stream, buffer_size=1 << 20) if isinstance(stream, gzip.GzipFile) else stream
        for lineno, line in enumerate(reader, 1):
            if lineno == 1 and line.startswith(_BOM):
                line = line[3:]
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            yield shown, lineno, line
    except (OSError, EOFError) as exc:
        raise UsageInputError(f"{shown}: read failed ({exc})") from None
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def parse_line(file: str, line: int, text: bytes, adapt: Any = None) -> LineResult:
    """One line → record, rejection or skip. ``adapt`` maps a non-canonical object (see ``shapes.py``)."""
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            return Rejected(file, line, "not valid UTF-8", text)
        return Rejected(file, line, f"not valid JSON ({str(exc).split(':')[0]})", text)
    if not isinstance(obj, dict):
        return Rejected(file, line, f"not a JSON object (got {type(obj).__name__})", text)
    try:
        if adapt is not None:
            return adapt(obj, file, line, text)
        return canonical(obj, file, line)
    except BadField as exc:
        model = obj.get("model") if isinstance(obj.get("model"), str) else None
        return Rejected(file, line, str(exc), text, model)


#: ``adapt`` value meaning "recognise every log shape of SPEC §1.3 per line" (``shapes.adapt``), the default.
#: ``adapt=None`` reads canonical records only.
DETECT_SHAPES = "detect"


def read_usage(paths: Iterable[str], adapt: Any = DETECT_SHAPES) -> Iterator[LineResult]:
    """Every non-blank line of every file as a record, rejection or skip, in input order.

    Records that carry a ``dedup_key`` (a message a log writes several times) go through ``_supersede``:
    the last line written for a message wins and stands at that line's position. From a file's first such
    record on, that file's results are held until its end and then released in line order (transcripts are
    small); everything else streams straight through, so the canonical path pays one attribute test per line.
    """
    if adapt == DETECT_SHAPES:
        from .shapes import adapt
    seen: dict[str, tuple[str, int]] = {}
    parse, record_type = parse_line, UsageRecord  # locals: this loop runs once per input line
    for path in expand_paths(paths):
        held: dict[str, UsageRecord] = {}
        buffered: list[LineResult] | None = None
        for file, line, text in iter_lines(path):
            r = parse(file, line, text, adapt)
            if r.__class__ is record_type and r.dedup_key is not None:
                if buffered is None:
                    buffered = []
                skip = _supersede(held, seen, r.dedup_key, r)
                if skip is not None:
                    buffered.append(skip)
                continue
            if buffered is None:
                yield r
            else:
                buffered.append(r)
        if buffered is not None:
            for key, r in held.items():
                seen[key] = (r.file, r.line)
            buffered.extend(held.values())
            buffered.sort(key=lambda x: x.line)
            yield from buffered


def _supersede(held: dict[str, UsageRecord], seen: dict[str, tuple[str, int]], key: str,
               r: UsageRecord) -> Skipped | None:
    """The de-duplication stage: within one file the LAST line written for a key wins (a streamed message's
    final usage) and earlier ones become skips. A key already released from an earlier file (a resumed
    session copies its history) is a skip too. Memory: one record per distinct key of the current file, plus
    the keys of earlier files."""
    if key in seen:
        file, line = seen[key]
        return Skipped(r.file, r.line, f"duplicate of {file}:{line} (same message id and request id)")
    previous = held.get(key)
    held[key] = r  # an existing key keeps its first-seen position
    if previous is None:
        return None
    return Skipped(previous.file, previous.line,
                   f"duplicate of line {r.line}, superseded (same message id and request id; streaming "
                   "writes a message more than once and the last line has the final usage)")
