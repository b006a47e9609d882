"""Usage JSONL → normalised UsageRecords, with file and line, streaming.

Every non-blank input line ends up as exactly one of: a ``UsageRecord``, a ``Rejected`` (with the reason
and the field), or a ``Skipped`` (valid JSON that carries no usage). Log shapes other than the canonical one
are recognised per line by the adapters in ``shapes.py`` and normalised to the same record.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import orjson

from ..rates.config import MAX_PRICE
from ..rates.requestprices import REQUEST_PRICE_FIELDS

MAX_TOKENS = 2**53 - 1
# Bounds that keep every cost finite (and summable exactly in report.Totals): durations, recorded costs and
# per-request prices above these are rejected as implausible.
MAX_DURATION_S = 1e9  # about 31 years
# An epoch number above 1e11 (1e11 s is the year 5138) is milliseconds, above 1e14 microseconds, above 1e17
# nanoseconds (OTLP and many tracers write µs or ns); divided at once, as the DuckDB engine does
_MILLISECONDS_ABOVE = 1e11
_EPOCH_UNITS = ((1e17, 1e9), (1e14, 1e6), (_MILLISECONDS_ABOVE, 1e3))
MAX_AMOUNT = 1e12  # dollars recorded for one request
_FROMISO_Z = sys.version_info >= (3, 11)  # fromisoformat reads "Z" and most ISO 8601 forms from 3.11 on
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class CallUnits:
    """What a call the proxy prices by other units than tokens was billed by, as far as its log says (None: the
    log does not carry it). Read from a standard logging payload's ``response`` and ``model_parameters``, or a
    spend-log row's stored ``response`` / ``proxy_server_request`` (only kept with ``store_prompts_in_spend_logs``).
    """

    images: int | None = None  # len(response.data): the n LiteLLM's image calculators bill
    requested_images: int | None = None  # the request's n (a fallback when the response is not logged)
    size: str | None = None  # the response's size, else the requested one ("1024x1792")
    quality: str | None = None  # the response's quality, else the requested one
    characters: int | None = None  # non-whitespace characters of a speech call's input text
    text_length: int | None = None  # all characters of that text (a token estimate, when the proxy counted tokens)
    seconds: float | None = None  # a transcription's audio duration (response.duration / usage.seconds)
    seconds_from_usage: bool = False  # ``seconds`` is the provider's usage.seconds, not the response's duration
    # an image call's token usage as LiteLLM's image calculators normalise it (calculate_image_response_cost_from_
    # usage): prompt, image input, completion, image output, reasoning and audio output tokens; None when the log
    # carries no usage or an all-zero one (the calculators then price per image)
    image_usage: tuple[int, int, int, int, int, int] | None = None
    steps: int | None = None  # the request's ``steps`` (Bedrock Stability 1 prices by it)
    resolution: str | None = None  # the request's ``resolution`` (xAI and fal.ai price images by it)
    fal_image_size: Any = None  # the request's fal.ai ``image_size`` (a name, or {width, height})
    # each image's (width, height) as its provider_specific_fields state them (fal.ai), None where they do not
    image_dimensions: tuple[tuple[int, int] | None, ...] | None = None
    reported_ticks: int | None = None  # the cost xAI reported, in 1e-10 dollars (usage.cost_in_usd_ticks)
    request_logged: bool = False  # the log holds the request body (a row with stored prompts)
    search_units: int | None = None  # a rerank response's meta.billed_units.search_units
    rerank_tokens: int | None = None  # a rerank response's meta.billed_units.total_tokens
    videos: int | None = None  # a video response's usage.video_count
    video_resolution: str | None = None  # a video response's usage.video_resolution
    input_images: int = 0  # a video response's usage.billable_input_image_count
    video_reported_cost: float | None = None  # a video response's usage.provider_reported_cost_usd
    max_results: int | None = None  # a search call's requested max_results (the request body, when stored)
    # a search call's requested mode parameters: search_depth (Tavily) and depth (Linkup)
    search_modes: tuple[tuple[str, str], ...] = ()
    # an MCP tool call's metadata.mcp_tool_call_metadata (None when the log lacks it): the tool's name and the
    # server's cost info as the proxy logged them (mcp_server_cost_info: default and per-tool prices per call)
    mcp_call: tuple[str, float | None, tuple[tuple[str, float], ...]] | None = None
    ocr_pages: int | None = None  # an OCR response's usage_info.pages_processed
    ocr_annotation_pages: int = 0  # an OCR response's usage_info.pages_processed_annotation
    ocr_credits: float | None = None  # an OCR response's usage_info.credits
    response_logged: bool = False  # the log holds the response body (a payload always; a row with stored prompts)


@dataclass(frozen=True, slots=True)
class ToolUse:
    """What a log shows of a call's built-in tools, as LiteLLM's tool cost tracking reads the response and the
    request (pricing/tools.py prices it)."""

    searched: bool = False  # the response shows a web search (response_object_includes_web_search_call)
    server_tool_requests: int | None = None  # usage.server_tool_use.web_search_requests (Anthropic, Groq, ...)
    grounding_requests: int = 0  # usage.prompt_tokens_details.web_search_requests (Gemini / Vertex grounding)
    xai_calls: int = 0  # usage.server_side_tool_usage_details.web_search_calls (xAI)
    provider_cost: bool = False  # the usage states the provider's own cost (xAI: tool calls included)
    responses_api: bool = False  # a Responses API response (its web_search_call items are counted)
    search_calls: int = 0  # web_search_call items in the Responses API output
    context_size: str | None = None  # the request's web_search_options / web_search tool search_context_size
    file_search: bool = False  # the request declared the file_search tool and the response used it


@dataclass(frozen=True, slots=True)
class UsageExtras:
    """The rarer billable parts of a call, which only some log shapes report (``UsageRecord.extras``; None when
    a record has none of them, so the common path never looks further)."""

    cache_read_audio_tokens: int = 0  # part of cache_read_tokens AND of audio_input_tokens
    cache_read_image_tokens: int = 0  # part of cache_read_tokens AND of image_input_tokens
    image_output_tokens: int = 0  # part of completion_tokens (generated images)
    video_output_tokens: int = 0  # part of completion_tokens (generated video: Gemini)
    citation_tokens: int = 0  # Perplexity: billed on top of prompt_tokens at citation_cost_per_token
    search_queries: int = 0  # Perplexity: web searches run for the answer, billed per query
    inference_geo: str | None = None  # Anthropic: where the request ran ("us" carries a regional multiplier)
    speed: str | None = None  # Anthropic: "fast" (fast mode) carries a price multiplier
    tools: ToolUse | None = None  # built-in tools the call used (web search, file search), priced on top

    def __bool__(self) -> bool:
        return bool(self.cache_read_audio_tokens or self.cache_read_image_tokens or self.image_output_tokens
                    or self.video_output_tokens
                    or self.citation_tokens or self.search_queries or self.inference_geo or self.speed
                    or self.tools is not None)


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
    extras: UsageExtras | None = None  # rarer billable parts (see UsageExtras); only log shapes set them
    # why the cost cannot be reproduced exactly from this log (a unit the proxy used and did not log); None: exact
    approximate: str | None = None
    # a LiteLLM call type the proxy prices by something other than tokens (image_generation, speech, rerank, ...);
    # None for the token-priced calls (chat, completions, embeddings, responses, messages)
    call_type: str | None = None
    call_units: CallUnits | None = None  # the units such a call is billed by (set with ``call_type``)
    # a text completion (call type text_completion): LiteLLM prices one sent to an openai deployment of a model that
    # is not an OpenAI chat model under provider text-completion-openai (Resolver.resolve_text_completion)
    text_completion: bool = False
    # An aggregated source (a usage API bucket, a daily spend row) sums many requests in one record: how many
    # (the report counts them as requests), and the prompt size of one of them, which picks the context-length
    # band and tier the bucket is priced at (None: prompt_tokens, one request's own)
    requests: int = 1
    band_prompt_tokens: int | None = None

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
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value) if abs(value) < 10**40 else f"an integer of {len(str(abs(value)))} digits"
    else:
        try:
            text = orjson.dumps(value).decode() if not isinstance(value, float) else repr(value)
        except orjson.JSONEncodeError:  # nested deeper than orjson writes
            text = f"a {type(value).__name__} nested too deep to show"
    return text if len(text) <= 40 else text[:37] + "..."


def number(value: Any, field: str, *, allow_negative: bool = False, limit: float = MAX_AMOUNT) -> float:
    """A finite number up to ``limit`` (a price, a duration, a recorded cost), not negative unless allowed."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadField(field, f"must be a number, got {_show(value)}")
    try:
        value = float(value)
    except OverflowError:
        value = math.inf
    if math.isnan(value) or math.isinf(value):
        raise BadField(field, "must be finite")
    if value < 0 and not allow_negative:
        raise BadField(field, f"must not be negative, got {value:g}")
    if abs(value) > limit:
        raise BadField(field, f"{value:g} is implausibly large (at most {limit:g})")
    return value


def parse_time(value: Any, field: str) -> float:
    """ISO 8601 (``Z`` or offset; naive means UTC) or epoch seconds (milliseconds, microseconds or nanoseconds if
    implausibly large),
    within the years 1 to 9999 (a few days' margin, so that every time zone can show it as a date and a week)."""
    if isinstance(value, bool):
        raise BadField(field, f"not a timestamp: {_show(value)}")
    if isinstance(value, (int, float)):
        try:
            t = float(value)
        except OverflowError:
            t = math.inf
        if math.isnan(t):
            raise BadField(field, "not a timestamp")
        for above, per_second in _EPOCH_UNITS:
            if t > above:
                t /= per_second
                break
    elif isinstance(value, str):
        dt = _iso_time(value)
        if dt is None:
            text = value.strip()
            try:
                number = float(text)
            except ValueError:
                raise BadField(field, f"not an ISO 8601 time or epoch seconds: {_show(value)}") from None
            if math.isnan(number) or math.isinf(number):
                raise BadField(field, f"not an ISO 8601 time or epoch seconds: {_show(value)}") from None
            return parse_time(number, field)
        return _in_range(dt, value, field)
    else:
        raise BadField(field, f"not a timestamp: {_show(value)}")
    return time_in_range(t, field, value)


# the times a record may carry, in epoch seconds: within the years 1 to 9999 with a few days' margin, so that
# every time zone can show them as a date and a week (0001-01-10 to 9999-12-20 UTC)
MIN_TS, MAX_TS = -62134819200.0, 253401264000.0


def time_in_range(t: float, field: str, shown: Any) -> float:
    """``t`` (epoch seconds) when it lies within MIN_TS to MAX_TS, else the rejection naming ``field`` and the value
    as written."""
    if MIN_TS <= t <= MAX_TS:
        return t
    raise BadField(field, f"timestamp out of range (years 1 to 9999): {_show(shown)}")


def _iso_time(value: str) -> datetime | None:
    """An ISO 8601 time as an aware datetime (naive means UTC), None when the text is not one."""
    text = value.strip()
    if not _FROMISO_Z and text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt


def _in_range(dt: datetime, value: Any, field: str) -> float:
    """``dt``'s epoch seconds when within the years parse_time accepts; else BadField."""
    try:
        t = dt.timestamp()
    except (OverflowError, ValueError):
        t = math.inf
    return time_in_range(t, field, value)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def epoch_micros(value: Any, field: str) -> int:
    """The instant ``parse_time`` reads, as integer microseconds since the epoch: what a datetime holds, so that
    two of them subtract exactly (an ISO time as written; epoch seconds or milliseconds by their decimal digits,
    not by the nearest binary float)."""
    if isinstance(value, str):
        dt = _iso_time(value)
        if dt is not None:  # parsed once: parse_time's range and errors, then the exact instant
            _in_range(dt, value, field)
            return (dt - _EPOCH) // _MICROSECOND
    parse_time(value, field)  # the same acceptance and the same one-line errors
    if isinstance(value, str):
        number = Decimal(value.strip())
    else:
        number = Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value)
    for above, per_second in _EPOCH_UNITS:
        if number > Decimal(above):
            number /= Decimal(per_second)
            break
    return int((number * 1_000_000).to_integral_value(ROUND_HALF_EVEN))


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
        prices.append((k, number(v, k, limit=MAX_PRICE)))
    return tuple(prices)


def duration(obj: dict[str, Any]) -> float | None:
    if obj.get("duration_s") is not None:
        return number(obj["duration_s"], "duration_s", limit=MAX_DURATION_S)
    if obj.get("response_time_ms") is not None:
        return number(obj["response_time_ms"], "response_time_ms", limit=MAX_DURATION_S * 1000) / 1000.0
    start, end = obj.get("startTime"), obj.get("endTime")
    if start is not None and end is not None:
        # the proxy subtracts datetimes: exact to the microsecond, then one correctly rounded division
        seconds = (epoch_micros(end, "endTime") - epoch_micros(start, "startTime")) / 1_000_000
        if seconds < 0:
            raise BadField("endTime", "is before startTime (negative duration)")
        if seconds > MAX_DURATION_S:
            raise BadField("endTime", f"is implausibly long after startTime ({seconds:g} s)")
        return seconds
    return None


def iso_span(obj: dict[str, Any]) -> tuple[float, float] | None:
    """(``parse_time`` of ``startTime``, ``duration``) of a record whose ``startTime`` and ``endTime`` are ISO 8601
    text in range, in order, and that states no duration of its own (a spend-log row): each time parsed once.
    None for any other record, which those two functions read (and reject) as before."""
    if obj.get("duration_s") is not None or obj.get("response_time_ms") is not None:
        return None
    start, end = obj.get("startTime"), obj.get("endTime")
    if start.__class__ is not str or end.__class__ is not str:
        return None
    began, ended = _iso_time(start), _iso_time(end)
    if began is None or ended is None:
        return None
    try:
        t, t_end = began.timestamp(), ended.timestamp()
    except (OverflowError, ValueError):
        return None
    if not (MIN_TS <= t <= MAX_TS and MIN_TS <= t_end <= MAX_TS):
        return None
    seconds = ((ended - began) // _MICROSECOND) / 1_000_000  # exact microseconds, as ``duration`` subtracts
    if seconds < 0 or seconds > MAX_DURATION_S:
        return None
    return t, seconds


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
    x = r.extras
    if x is not None:
        if x.cache_read_audio_tokens + x.cache_read_image_tokens > r.cache_read_tokens:
            raise BadField(n.get("cache_modality", n.get("cache", "cache_read_input_tokens")),
                           f"cached audio plus cached image tokens ({x.cache_read_audio_tokens} + "
                           f"{x.cache_read_image_tokens}) exceed the cached tokens ({r.cache_read_tokens})")
        if x.cache_read_audio_tokens > r.audio_input_tokens or x.cache_read_image_tokens > r.image_input_tokens:
            raise BadField(n.get("cache_modality", n.get("audio_in", "audio_input_tokens")),
                           "cached audio or image tokens exceed the audio or image input tokens they are part of")
        if x.video_output_tokens + x.image_output_tokens > r.completion_tokens:
            raise BadField(n.get("image_out", "image_output_tokens"),
                           f"image plus video output tokens ({x.image_output_tokens} + {x.video_output_tokens}) "
                           f"exceed completion_tokens "
                           f"({r.completion_tokens})")


# -- the canonical shape ----------------------------------------------------------------------------

def canonical(obj: dict[str, Any], file: str, line: int) -> UsageRecord:
    """The canonical flat record (SPEC §1.3).

    Logs repeat a handful of key layouts, so each layout gets an extractor compiled once (see
    ``_compile_extractor``); records with rarer fields, or any value that fails a fast check, take
    ``canonical_checked``, which validates every field and names the one it rejects."""
    return extractor_for(tuple(obj))(obj, file, line)


def extractor_for(sig: tuple[str, ...]) -> Any:
    """The function that reads a canonical object with keys ``sig`` (compiled once per layout, bounded)."""
    fn = _EXTRACTORS.get(sig)
    if fn is None:
        fn = _EXTRACTORS[sig] = _compile_extractor(sig) if len(_EXTRACTORS) < 512 else canonical_checked
    return fn


def canonical_checked(obj: dict[str, Any], file: str, line: int) -> UsageRecord:
    """The canonical record, every field checked (rejections name the field)."""
    get = obj.get
    model = get("model")
    if type(model) is not str or not model or model[0].isspace() or model[-1].isspace():
        if not isinstance(model, str) or not model.strip():
            raise BadField("model", "missing or not a string")
        model = model.strip()
    counts = []
    for field in _TOKEN_FIELDS:
        v = get(field)
        if v is None:
            v = 0
        elif type(v) is not int or v < 0 or v > MAX_TOKENS:
            v = token_count(obj, field)
        counts.append(v)
    prompt, completion, read, write, reasoning, audio_in, audio_out, image_in = counts
    seconds = get("duration_s")
    if seconds is not None or get("response_time_ms") is not None or get("startTime") is not None:
        seconds = duration(obj)
    model_id = get("model_id")
    if model_id is not None and (type(model_id) is not str or not model_id):
        model_id = optional_str(obj, "model_id")
    tier = get("service_tier")
    if tier is not None and (type(tier) is not str or not tier):
        tier = optional_str(obj, "service_tier")
    ts = get("timestamp")
    if ts is not None:
        ts = parse_time(ts, "timestamp")
    one_hour = 0
    if get("cache_creation_1h_input_tokens") is not None:
        one_hour = token_count(obj, "cache_creation_1h_input_tokens")
    elif isinstance(get("cache_creation"), dict):
        one_hour = token_count(obj["cache_creation"], "ephemeral_1h_input_tokens",
                               "cache_creation.ephemeral_1h_input_tokens")
    prices = () if REQUEST_PRICE_FIELDS.isdisjoint(obj) else request_prices(obj)
    recorded = None
    if "spend" in obj or "cost" in obj or "costUSD" in obj or "response_cost" in obj:
        recorded = _recorded_cost(obj)
    record = UsageRecord(file, line, model, prompt, completion, read, write, one_hour, reasoning, audio_in,
                         audio_out, image_in, seconds, model_id, tier, ts, prices, recorded,
                         get("batch") is True, "canonical", obj)
    if read + write > prompt or one_hour > write or reasoning > completion or audio_out > completion \
            or audio_in > prompt or image_in > prompt:
        check_conventions(record)
    return record


_TOKEN_FIELDS = ("prompt_tokens", "completion_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
                 "reasoning_tokens", "audio_input_tokens", "audio_output_tokens", "image_input_tokens")
# Fields whose presence sends a layout to canonical_checked: they need parsing beyond a type test.
_RARE_FIELDS = frozenset({
    "duration_s", "response_time_ms", "startTime", "endTime", "cache_creation_1h_input_tokens", "cache_creation",
    "spend", "cost", "costUSD", "response_cost", "batch",
}) | REQUEST_PRICE_FIELDS
_EXTRACTORS: dict[tuple[str, ...], Any] = {}


def _compile_extractor(sig: tuple[str, ...]) -> Any:
    """Straight-line code for one key layout: read each present field once, test its type and range, check the
    conventions, build the record; on any doubt defer to ``canonical_checked`` (same result, or the rejection)."""
    keys = set(sig)
    if "model" not in keys or keys & _RARE_FIELDS:
        return canonical_checked
    names = ("p", "c", "cr", "cw", "rea", "ai", "ao", "ii")
    lines = ["def extract(obj, file, line):", "    model = obj['model']"]
    tests = ["model.__class__ is str", "model", "not model[0].isspace()", "not model[-1].isspace()"]
    for field, name in zip(_TOKEN_FIELDS, names):
        if field in keys:
            lines.append(f"    {name} = obj[{field!r}]")
            tests.append(f"{name}.__class__ is int and 0 <= {name} <= MAX_TOKENS")
        else:
            lines.append(f"    {name} = 0")
    for field, name in (("model_id", "mid"), ("service_tier", "tier")):
        if field in keys:
            lines.append(f"    {name} = obj[{field!r}]")
            tests.append(f"{name}.__class__ is str and {name}")
        else:
            lines.append(f"    {name} = None")
    tests.append("cr + cw <= p and rea <= c and ao <= c and ai <= p and ii <= p")
    lines.append("    if not (" + " and ".join(tests) + "):")
    lines.append("        return canonical_checked(obj, file, line)")
    if "timestamp" in keys:
        lines.append("    ts = obj['timestamp']")
        lines.append("    if ts.__class__ is int and 0 <= ts <= 100_000_000_000:")
        lines.append("        ts = float(ts)")
        lines.append("    elif ts is not None:")
        lines.append("        ts = parse_time(ts, 'timestamp')")
    else:
        lines.append("    ts = None")
    lines.append("    return UsageRecord(file, line, model, p, c, cr, cw, 0, rea, ai, ao, ii, None, mid, tier, ts, (),"
                 " None, False, 'canonical', obj)")
    namespace = {"MAX_TOKENS": MAX_TOKENS, "canonical_checked": canonical_checked, "parse_time": parse_time,
                 "UsageRecord": UsageRecord}
    exec("\n".join(lines), namespace)
    return namespace["extract"]


def _recorded_cost(obj: dict[str, Any]) -> float | None:
    for field in ("spend", "cost", "costUSD", "response_cost"):
        value = obj.get(field)
        if value is not None:
            return number(value, field, allow_negative=False)
    return None


def read_object(read: Callable[[dict[str, Any], str, int, bytes], Any], obj: dict[str, Any], file: str, line: int,
                text: bytes) -> Iterator[Any]:
    """What one JSON object of a file becomes (a CSV row, an element of a JSON array): the record or records
    ``read`` makes of it, or its rejection naming the field at fault."""
    try:
        result = read(obj, file, line, text)
    except BadField as exc:
        model = obj.get("model") if isinstance(obj.get("model"), str) else None
        yield Rejected(file, line, str(exc), text, model)
        return
    if result.__class__ is list:
        yield from result
    else:
        yield result
