"""Real log shapes → canonical UsageRecords (SPEC §1.3): one small adapter per shape, and ``adapt``, the
per-line detector that ``usage.read_usage`` uses by default.

Every adapter turns its shape's token convention into the canonical one (``prompt_tokens`` INCLUDES cache
reads and writes, audio and image input; ``completion_tokens`` INCLUDES reasoning and audio output) and names
the shape in ``UsageRecord.shape``. A recognised line that breaks its own convention raises ``BadField`` (a
rejection naming the field, never a guess); a recognised line without billable usage is ``Skipped``.

=====================  ==========================================  ===============================================
shape                  recognised by                               convention
=====================  ==========================================  ===============================================
``canonical``          top-level ``prompt_tokens`` (or nothing     SPEC §1.3 table
                       else matches)
``openai-chat``        ``usage.prompt_tokens``                     prompt includes ``prompt_tokens_details``
                                                                   (cached, audio, image); completion includes
                                                                   reasoning and audio; xAI reasoning outside
                                                                   completion (by ``total_tokens``); Perplexity
                                                                   citations and searches on top
``openai-responses``   ``usage.input_tokens`` + ``object:          ``input_tokens`` includes ``input_tokens_details
                       "response"`` / ``input_tokens_details``;    .cached_tokens`` and ``.cache_write_tokens``;
                       ``response.completed`` events               output includes reasoning
``openai-realtime``    ``type: "response.done"``                   as the Responses API, with
                                                                   ``input_token_details`` (cached audio/image)
``anthropic``          ``usage.input_tokens`` + ``type:            ``input_tokens`` EXCLUDES cache reads and
                       "message"`` / Anthropic cache keys          writes: prompt = input + read + write;
                                                                   ``inference_geo`` (regional price)
``gemini``             ``usageMetadata``                           ``promptTokenCount`` includes cached;
                                                                   ``thoughtsTokenCount`` is billed on top of
                                                                   ``candidatesTokenCount``
``bedrock-converse``   ``usage.inputTokens`` (or a stream's        ``inputTokens`` EXCLUDES cache reads and
                       ``metadata.usage``)                         writes, as Anthropic's
``cohere``             ``usage.billed_units`` / ``usage.tokens``;  chat: ``tokens`` (what LiteLLM bills); embed:
                       ``meta.billed_units``                       ``billed_units``, images as image tokens
``litellm-spend-log``  ``model_group`` (or ``request_id`` +        LiteLLM's own (prompt includes cache); details
                       ``call_type``)                              in ``metadata.usage_object``
``claude-code``        ``sessionId`` / ``message`` / transcript    Anthropic; one message (id) written over
                       line ``type``                               several lines or side chains counts once
``openai-batch``       ``custom_id`` + ``response``                the body's own shape, at batch rates
``anthropic-batch``    ``custom_id`` + ``result``                  Anthropic, at batch rates
``otel``               ``resourceSpans`` / ``resourceLogs``        ``otel.py``: one record per span or event
``openai-usage``       ``object``: page / bucket of                ``provider_usage.py``: a bucket, priced per
                       ``organization.usage.completions.result``   bucket (``input_tokens`` includes cached)
``anthropic-usage``    ``uncached_input_tokens`` in buckets        ``provider_usage.py``: a bucket (uncached
                                                                   input excludes cache reads and writes)
``bedrock-invocation-  ``schemaType: ModelInvocationLog``          ``bedrock_logs.py``: ``inputTokenCount``
log``                                                              excludes cache reads and writes
``litellm-daily-       ``api_requests`` + ``date``                 ``litellm_daily.py``: a daily row, priced per
spend``                                                            row (prompt includes cache)
``langfuse``           ``usageDetails`` / ``costDetails``          ``langfuse.py``: additive usage types
``portkey``            ``ai_model`` + ``req_units``                ``gateways.py``: the response body's usage, or
                                                                   req/res units; ``cost`` in cents
``helicone``           ``request_created_at`` + ``request_model``  ``gateways.py``: ``cost`` in dollars
=====================  ==========================================  ===============================================

A line of an OTLP export or a usage API page holds several records: ``adapt`` returns them as a list.

The rarer billable parts some shapes report (cached audio and image tokens, image output tokens, Perplexity's
citation tokens and search queries, Anthropic's ``inference_geo`` and ``speed``) go to ``UsageRecord.extras``.

Detection costs a few key-membership tests: canonical lines are recognised first, by three of them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from . import bedrock_logs, gateways, langfuse, litellm_daily, otel, provider_usage
from .records import (
    MAX_TOKENS,
    BadField,
    CallUnits,
    LineResult,
    Skipped,
    UsageExtras,
    UsageRecord,
    canonical,
    check_conventions,
    duration,
    extractor_for,
    iso_span,
    number,
    optional_str,
    parse_time,
    token_count,
)
from .tools import gemini_grounding, logged_object, tool_use

SHAPES = ("canonical", "openai-chat", "openai-responses", "openai-realtime", "anthropic", "gemini",
          "bedrock-converse", "cohere", "litellm-spend-log", "claude-code", "openai-batch", "anthropic-batch",
          otel.SHAPE, "openai-usage", "anthropic-usage", bedrock_logs.SHAPE, litellm_daily.SHAPE, langfuse.SHAPE,
          "portkey", "helicone")

_ANTHROPIC_CACHE_KEYS = ("cache_read_input_tokens", "cache_creation_input_tokens", "cache_creation")
# Claude Code transcript line types (only assistant lines carry usage)
_TRANSCRIPT_TYPES = frozenset({"user", "assistant", "summary", "system", "file-history-snapshot", "queue-operation"})
# Gemini / Vertex traffic types that LiteLLM bills at a service tier (PRICING.md §4.4)
_GEMINI_TRAFFIC_TIERS = {"ON_DEMAND_PRIORITY": "priority", "FLEX": "flex", "BATCH": "flex", "ON_DEMAND_FLEX": "flex"}
# LiteLLM call types billed per token (and batches); other rows of a spend log (images, speech, rerank, ...) are
# read with their call type, which the engine prices or reports unpriced with the reason
_TOKEN_CALL_TYPES = frozenset({
    "completion", "acompletion", "text_completion", "atext_completion", "embedding", "aembedding",
    "responses", "aresponses", "anthropic_messages", "aanthropic_messages", "generate_content",
    "agenerate_content", "generate_content_stream", "agenerate_content_stream", "pass_through_endpoint",
    # moderation: completion_cost has no branch of its own, so cost_per_token prices the response's usage (none
    # from OpenAI: $0) at the model's token rates
    "moderation", "amoderation",
    # a thread run's response carries the run's usage, which completion_cost prices by token
    "run_thread", "arun_thread", "run_thread_stream", "arun_thread_stream",
    # video generation and extension logged under these names fall outside completion_cost's video branch (only
    # create_video, video_edit, video_remix): cost_per_token prices the usage's tokens (a video usage has none: $0)
    "video_generation", "avideo_generation", "video_extension", "avideo_extension",
    # an extraction's usage (input and output tokens; its state, image and schema token counts and passes are
    # not priced) is priced by cost_per_token as a chat's prompt and completion tokens
    "extraction", "aextraction",
    # a Google Interactions call (the Interactions usage, turned into a chat usage by LiteLLM's logging and by
    # completion_cost alike), a Responses API compaction (its Responses usage) and a provider pass-through route
    # (the provider config's transformed response) are priced by cost_per_token on the usage the proxy logs
    "create_interaction", "acreate_interaction", "compact_responses", "acompact_responses",
    "llm_passthrough_route", "allm_passthrough_route",
})
_BATCH_CALL_TYPES = frozenset({"retrieve_batch", "aretrieve_batch"})
_TEXT_COMPLETION_CALL_TYPES = frozenset({"text_completion", "atext_completion"})
TOKEN_CALL_TYPES = _TOKEN_CALL_TYPES | _BATCH_CALL_TYPES
FAILURE_REASON = "a failed request (the proxy books $0)"
CACHE_HIT_REASON = "served from the LiteLLM proxy's cache (the proxy books $0)"
# OpenAI Realtime server events other than response.done (session.created, response.output_audio.delta, ...)
_REALTIME_EVENT_GROUPS = frozenset({"session", "response", "conversation", "input_audio_buffer", "output_audio_buffer",
                                    "rate_limits", "transcription_session"})
_CANONICAL_LAYOUTS: dict[tuple[str, ...], Any] = {}


def adapt(obj: dict[str, Any], file: str, line: int, text: bytes) -> UsageRecord | Skipped | list[LineResult]:
    """Recognise the shape of one JSON object line and normalise it (``usage.parse_line``'s ``adapt`` hook): a
    record or a skip, or a list of them for a line that holds several (an OTLP export, a usage API page).

    Whether a line is canonical depends on its keys only, so that decision is remembered per key layout
    (logs repeat a few) and a canonical line goes straight to its compiled extractor."""
    sig = tuple(obj)
    read = _CANONICAL_LAYOUTS.get(sig)
    if read is not None:
        return read(obj, file, line)
    if "api_requests" in obj and "date" in obj:
        return litellm_daily.daily_row(obj, file, line)
    if "prompt_tokens" in obj and "model_group" not in obj and "request_id" not in obj:
        read = extractor_for(sig)
        if len(_CANONICAL_LAYOUTS) < 512:
            _CANONICAL_LAYOUTS[sig] = read
        return read(obj, file, line)
    if "model_group" in obj or ("request_id" in obj and "call_type" in obj):
        return litellm_spend_log(obj, file, line)
    found = _other_source(obj, file, line)
    if found is not None:
        return found
    if "usage" in obj:
        return response(obj, file, line)
    if "usageMetadata" in obj:
        return gemini(obj, file, line)
    kind = obj.get("type")
    if isinstance(kind, str) and "." in kind:
        if kind == "response.done" and "response" in obj:
            return openai_realtime(obj, file, line)
        if kind in _RESPONSES_FINAL_EVENTS and isinstance(obj.get("response"), dict):
            return _responses_event(obj, file, line)
        if kind.split(".", 1)[0] in _REALTIME_EVENT_GROUPS:
            return Skipped(file, line, f"a streamed {kind} event (no usage)")
    if isinstance(obj.get("meta"), dict) and "billed_units" in obj["meta"]:
        return cohere(obj, obj["meta"], "meta", file, line)
    if isinstance(obj.get("metadata"), dict) and isinstance(obj["metadata"].get("usage"), dict) \
            and "inputTokens" in obj["metadata"]["usage"]:
        return bedrock_converse(obj, obj["metadata"]["usage"], file, line)  # a ConverseStream metadata event
    if not _BEDROCK_STREAM_EVENTS.isdisjoint(obj):
        return Skipped(file, line, "a Bedrock ConverseStream event (only metadata carries usage)")
    if "custom_id" in obj:
        return batch_output(obj, file, line)
    if "sessionId" in obj or "message" in obj or (isinstance(obj.get("type"), str)
                                                   and obj["type"] in _TRANSCRIPT_TYPES):
        return claude_code(obj, file, line)
    if "error" in obj and "model" not in obj:
        return Skipped(file, line, "an error response (no usage)")
    return canonical(obj, file, line)


def _other_source(obj: dict[str, Any], file: str, line: int) -> Any:
    """The sources beside the proxy's logs and the providers' responses (issue 25): OTLP exports, the providers'
    usage reports, Bedrock invocation logs, Langfuse observations, Portkey's and Helicone's exports; None for
    anything else."""
    if otel.is_otlp(obj):
        return otel.otlp(obj, file, line)
    if "object" in obj and provider_usage.is_openai_usage(obj):
        return provider_usage.openai_usage(obj, file, line)
    if ("data" in obj or "starting_at" in obj or "uncached_input_tokens" in obj) \
            and provider_usage.is_anthropic_usage(obj):
        return provider_usage.anthropic_usage(obj, file, line)
    if ("usageDetails" in obj or "costDetails" in obj or "traceId" in obj) and langfuse.is_observation(obj):
        return langfuse.observation(obj, file, line)
    if ("schemaType" in obj or "modelId" in obj) and bedrock_logs.is_invocation_log(obj):
        return bedrock_logs.invocation_log(obj, file, line)
    if "events" in obj and bedrock_logs.is_cloudwatch_events(obj):
        return bedrock_logs.cloudwatch_events(obj, file, line)
    if "ai_model" in obj and gateways.is_portkey(obj):
        return gateways.portkey(obj, file, line, response)
    if "request_created_at" in obj and gateways.is_helicone(obj):
        return gateways.helicone(obj, file, line)
    return None


# -- helpers -------------------------------------------------------------------------------------------

def _model(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadField(field, "missing or not a string")
    return value.strip()


def _dict(obj: dict[str, Any], key: str, shown: str) -> dict[str, Any]:
    """A nested object, {} when absent or null."""
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadField(shown, "must be an object")
    return value


def _count(obj: dict[str, Any], key: str, prefix: str) -> int:
    value = obj.get(key)
    if value is None:
        return 0
    if value.__class__ is int and 0 <= value <= MAX_TOKENS:  # the common count, without building the field name
        return value
    return token_count(obj, key, f"{prefix}.{key}")


def _tier(value: Any, field: str) -> str | None:
    """A service tier: it changes the rates, so a value of the wrong type is rejected, not ignored."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadField(field, "must be a string")
    return value


def _time(obj: dict[str, Any], key: str) -> float | None:
    value = obj.get(key)
    return None if value is None else parse_time(value, key)


def _recorded(obj: dict[str, Any], *fields: str) -> float | None:
    for field in fields:
        value = obj.get(field)
        if value is not None:
            return number(value, field)
    return None


def _response_cost(obj: dict[str, Any], usage: dict[str, Any]) -> float | None:
    """A cost the log recorded: the line's own ``cost`` / ``spend``, else a provider-reported ``usage.cost``
    (OpenRouter and others; LiteLLM itself books that instead of the map price when it is present)."""
    found = _recorded(obj, "cost", "spend")
    cost = usage.get("cost")
    if found is None and isinstance(cost, dict) and cost.get("total_cost") is not None:
        found = number(cost["total_cost"], "usage.cost.total_cost")  # Perplexity's cost breakdown
    elif found is None and cost is not None:
        found = number(cost, "usage.cost")
    return found


def _names(prefix: str, cache: str, reasoning: str, audio_in: str = "", audio_out: str = "") -> dict[str, str]:
    """Field names for ``check_conventions`` messages, in the shape's own vocabulary."""
    return {"cache": f"{prefix}.{cache}", "cache_1h": f"{prefix}.cache_creation.ephemeral_1h_input_tokens",
            "reasoning": f"{prefix}.{reasoning}", "audio_in": f"{prefix}.{audio_in or cache}",
            "audio_out": f"{prefix}.{audio_out or reasoning}"}


def _record(file: str, line: int, model: str, shape: str, raw: dict[str, Any] | None, names: dict[str, str],
            **fields: Any) -> UsageRecord:
    if fields.get("extras") is not None and not fields["extras"]:
        fields["extras"] = None  # none of the rarer parts: the record takes the common pricing path
    r = UsageRecord(file=file, line=line, model=model, shape=shape, raw=raw, **fields)
    check_conventions(r, names)
    return r


_NO_EXTRAS = UsageExtras()


def _cached_modalities(details: dict[str, Any], prefix: str) -> dict[str, int]:
    """Cached audio and image tokens (``cached_tokens_details``): parts of the cached tokens that LiteLLM bills
    at ``cache_read_input_audio_token_cost`` / ``cache_read_input_image_token_cost``."""
    if details.get("cached_tokens_details") is None:
        return {"cache_read_audio_tokens": 0, "cache_read_image_tokens": 0}
    where = f"{prefix}.cached_tokens_details"
    cached = _dict(details, "cached_tokens_details", where)
    return {"cache_read_audio_tokens": _count(cached, "audio_tokens", where),
            "cache_read_image_tokens": _count(cached, "image_tokens", where)}


def _not_modelled(prefix: str, details: dict[str, Any], keys: tuple[str, ...], what: str) -> None:
    """Token kinds LiteLLM bills at rates of their own that the canonical record cannot carry: reject."""
    for key in keys:
        if token_count(details, key, f"{prefix}.{key}"):
            raise BadField(f"{prefix}.{key}", f"{what} are billed at their own rate, which costcalc does not model")


# -- OpenAI Chat Completions (and LiteLLM's own Usage objects) ------------------------------------------

def chat_details(usage: dict[str, Any], prefix: str) -> dict[str, int]:
    """The canonical counts held in an OpenAI / LiteLLM ``usage``'s details (everything but prompt and
    completion tokens). LiteLLM's own Usage also repeats cache counts at the top level under Anthropic's
    names; those are accepted only when they agree with ``prompt_tokens_details``."""
    pd = _dict(usage, "prompt_tokens_details", f"{prefix}.prompt_tokens_details")
    cd = _dict(usage, "completion_tokens_details", f"{prefix}.completion_tokens_details")
    pp, cp = f"{prefix}.prompt_tokens_details", f"{prefix}.completion_tokens_details"
    cached = _count(pd, "cached_tokens", pp)
    if usage.get("prompt_cache_hit_tokens") is not None:
        # DeepSeek: prompt_tokens = prompt_cache_hit_tokens + prompt_cache_miss_tokens; LiteLLM's Usage takes the
        # hit count as the cached tokens, over prompt_tokens_details
        cached = _count(usage, "prompt_cache_hit_tokens", prefix)
    written = _count(pd, "cache_write_tokens", pp) or _count(pd, "cache_creation_tokens", pp)
    for top, detail, value in (("cache_read_input_tokens", "cached_tokens", cached),
                               ("cache_creation_input_tokens", "cache_write_tokens", written)):
        given = _count(usage, top, prefix)
        if given and given != value:
            raise BadField(f"{prefix}.{top}",
                           f"Anthropic-style cache count ({given}) on an OpenAI-style usage whose "
                           f"prompt_tokens_details.{detail} says {value}: cannot tell whether prompt_tokens "
                           "includes it")
    ttl = _dict(pd, "cache_creation_token_details", f"{pp}.cache_creation_token_details")
    counts = {
        "cache_read_tokens": cached,
        "cache_write_tokens": written,
        "cache_write_1h_tokens": _count(ttl, "ephemeral_1h_input_tokens", f"{pp}.cache_creation_token_details"),
        "audio_input_tokens": _count(pd, "audio_tokens", pp),
        "image_input_tokens": _count(pd, "image_tokens", pp),
        "reasoning_tokens": _count(cd, "reasoning_tokens", cp),
        "audio_output_tokens": _count(cd, "audio_tokens", cp),
    }
    images, videos = _count(cd, "image_tokens", cp), _count(cd, "video_tokens", cp)
    cached_parts = _cached_modalities(pd, pp)
    # the common usage has none of the rarer parts: one shared empty extras instead of a new one per record
    counts["extras"] = UsageExtras(image_output_tokens=images, video_output_tokens=videos, **cached_parts) \
        if images or videos or cached_parts["cache_read_audio_tokens"] or cached_parts["cache_read_image_tokens"] \
        else _NO_EXTRAS
    return counts


_CHAT_NAMES = _names("usage", "prompt_tokens_details.cached_tokens", "completion_tokens_details.reasoning_tokens",
                     "prompt_tokens_details.audio_tokens", "completion_tokens_details.audio_tokens")


# Perplexity's marks on a Chat Completions response (its model names are only priced under ``perplexity/``)
_PERPLEXITY_MARKS = ("citations", "search_results", "num_search_queries")
_PERPLEXITY_USAGE_MARKS = ("citation_tokens", "num_search_queries", "search_context_size")
USD_TICKS_PER_DOLLAR = 10_000_000_000  # xAI reports cost_in_usd_ticks (docs.x.ai, cost tracking)


def _is_xai(model: str) -> bool:
    """xAI's convention: reasoning outside completion_tokens. LiteLLM folds it back for xAI and for Azure AI
    Foundry (``azure_ai/``, which serves Grok), guarded by total_tokens."""
    return model.startswith(("xai/", "grok", "azure_ai/"))


def _is_perplexity(obj: dict[str, Any], usage: dict[str, Any], model: str) -> bool:
    return model.startswith("perplexity/") or (
        "/" not in model and (any(k in obj for k in _PERPLEXITY_MARKS) or any(k in usage for k in
                                                                                _PERPLEXITY_USAGE_MARKS)))


def _search_queries(obj: dict[str, Any], usage: dict[str, Any]) -> int:
    """Perplexity's ``num_search_queries`` (in ``usage`` or at the top level), as LiteLLM looks for it; the older
    ``search_queries`` name only when it is a count (LiteLLM ignores anything else there too)."""
    for where, key, shown in ((usage, "num_search_queries", "usage.num_search_queries"),
                              (obj, "num_search_queries", "num_search_queries")):
        if where.get(key) is not None:
            return token_count(where, key, shown)
    for where in (usage, obj):
        value = where.get("search_queries")
        if type(value) is int and value >= 0:
            return value
    return 0


def openai_chat(obj: dict[str, Any], usage: dict[str, Any], file: str, line: int,
                shape: str = "openai-chat") -> UsageRecord:
    """A Chat Completions response (or embeddings response, or ``{model, usage}``): OpenAI's convention is
    costcalc's, so the counts carry over; ``service_tier`` is the tier the response says it was served at.

    Provider variants of the same body, each read as LiteLLM 1.110.2's transformation for that provider reads it:
    - a top-level ``usage.reasoning_tokens`` (vLLM-style servers) is part of ``completion_tokens``, unless
      ``completion_tokens_details.reasoning_tokens`` already says (LiteLLM's ``Usage``);
    - xAI (``grok*`` / ``xai/``; also ``azure_ai/``, as LiteLLM's Azure AI transformation) counts reasoning
      OUTSIDE ``completion_tokens`` while ``total_tokens`` sums all three: when ``total_tokens == prompt +
      completion + reasoning`` (and not ``prompt + completion``) the completion is ``completion + reasoning``
      (``XAIChatConfig.fold_reasoning_tokens_into_completion``). xAI's native field
      ``cached_prompt_text_tokens`` (inside ``prompt_tokens``) is its cache-read count; a bare ``grok…`` model
      is priced as ``xai/grok…``; ``cost_in_usd_ticks`` is the recorded cost;
    - DeepSeek: ``prompt_cache_hit_tokens`` is the cache-read count (as LiteLLM's ``Usage`` reads it) and a bare
      model name is priced as ``deepseek/<model>``;
    - Perplexity: ``citation_tokens`` and ``num_search_queries`` are billed on top, as reported (LiteLLM's
      fallback formula, used only when a response lacks Perplexity's own ``usage.cost``, estimates citation
      tokens from the ``citations`` text instead), and so is its top-level ``reasoning_tokens`` (outside
      ``completion_tokens`` and ``total_tokens``, billed separately in the response's own ``usage.cost``:
      completion = completion + reasoning); a bare model name with Perplexity's marks (``citations``,
      ``search_results``, …) is priced as ``perplexity/<model>``."""
    model = _model(obj.get("model"), "model")
    details = chat_details(usage, "usage")
    prompt = _count(usage, "prompt_tokens", "usage")
    completion = _count(usage, "completion_tokens", "usage")
    top_reasoning = _count(usage, "reasoning_tokens", "usage")
    if top_reasoning and not details["reasoning_tokens"]:
        details["reasoning_tokens"] = top_reasoning
    extras: UsageExtras = details.pop("extras")
    recorded = _response_cost(obj, usage)
    if _is_xai(model):
        if "/" not in model:
            model = f"xai/{model}"
        if not details["cache_read_tokens"]:
            details["cache_read_tokens"] = _count(usage, "cached_prompt_text_tokens", "usage")
        reasoning = details["reasoning_tokens"]
        total = _count(usage, "total_tokens", "usage") if usage.get("total_tokens") is not None else None
        if reasoning and total is not None and total != prompt + completion \
                and total == prompt + completion + reasoning:
            completion += reasoning
        if recorded is None and usage.get("cost_in_usd_ticks") is not None:
            recorded = _count(usage, "cost_in_usd_ticks", "usage") / USD_TICKS_PER_DOLLAR
    elif "prompt_cache_hit_tokens" in usage and "/" not in model:
        model = f"deepseek/{model}"  # the DeepSeek API's own usage: its bare model names are priced as deepseek/
    elif _is_perplexity(obj, usage, model):
        if "/" not in model:
            model = f"perplexity/{model}"
        if top_reasoning and not _count(_dict(usage, "completion_tokens_details", "usage.completion_tokens_details"),
                                        "reasoning_tokens", "usage.completion_tokens_details"):
            # Perplexity bills reasoning on top of the output (its usage.cost has both; total_tokens neither)
            completion += top_reasoning
        extras = replace(extras, citation_tokens=_count(usage, "citation_tokens", "usage"),
                         search_queries=_search_queries(obj, usage))
    return _record(
        file, line, model, shape, obj, _CHAT_NAMES,
        prompt_tokens=prompt,
        completion_tokens=completion,
        service_tier=_tier(obj.get("service_tier"), "service_tier") or _tier(usage.get("service_tier"),
                                                                             "usage.service_tier"),
        timestamp=_time(obj, "created"),
        recorded_cost=recorded,
        extras=extras,
        **details,
    )


# -- OpenAI Responses API -------------------------------------------------------------------------------

_RESPONSES_NAMES = _names("usage", "input_tokens_details.cached_tokens", "output_tokens_details.reasoning_tokens",
                          "input_tokens_details.audio_tokens", "output_tokens_details.audio_tokens")


def responses_counts(usage: dict[str, Any], prefix: str, input_key: str = "input_tokens_details",
                     output_key: str = "output_tokens_details") -> dict[str, Any]:
    """Responses API usage → canonical counts. ``input_tokens`` INCLUDES ``cached_tokens`` and
    ``cache_write_tokens`` (LiteLLM reads both from the details), and the audio and image tokens, each of which
    includes its cached share (``cached_tokens_details``); ``output_tokens`` includes reasoning, audio and image
    output. The Realtime API writes the same usage with ``input_token_details`` / ``output_token_details``."""
    ip, op = f"{prefix}.{input_key}", f"{prefix}.{output_key}"
    idt = _dict(usage, input_key, ip)
    odt = _dict(usage, output_key, op)
    prompt = _count(usage, "input_tokens", prefix)
    cached = _count(idt, "cached_tokens", ip)
    written = _count(idt, "cache_write_tokens", ip)
    if cached > prompt:
        raise BadField(f"{ip}.cached_tokens",
                       f"cached_tokens ({cached}) exceed input_tokens ({prompt}), which include them "
                       "(the uncached input would be negative)")
    _not_modelled(f"{ip}.cache_write_tokens_details", _dict(idt, "cache_write_tokens_details",
                                                           f"{ip}.cache_write_tokens_details"),
                  ("ttl_12h_tokens",), "12-hour cache writes")
    return {
        "prompt_tokens": prompt,
        "completion_tokens": _count(usage, "output_tokens", prefix),
        "cache_read_tokens": cached,
        "cache_write_tokens": written,
        "audio_input_tokens": _count(idt, "audio_tokens", ip),
        "image_input_tokens": _count(idt, "image_tokens", ip),
        "reasoning_tokens": _count(odt, "reasoning_tokens", op),
        "audio_output_tokens": _count(odt, "audio_tokens", op),
        "extras": UsageExtras(image_output_tokens=_count(odt, "image_tokens", op), **_cached_modalities(idt, ip)),
    }


def openai_responses(obj: dict[str, Any], usage: dict[str, Any], file: str, line: int,
                     shape: str = "openai-responses") -> UsageRecord:
    """A Responses API object (``responses_counts``)."""
    return _record(
        file, line, _model(obj.get("model"), "model"), shape, obj, _RESPONSES_NAMES,
        service_tier=_tier(obj.get("service_tier"), "service_tier"),
        timestamp=_time(obj, "created_at"),
        recorded_cost=_response_cost(obj, usage),
        **responses_counts(usage, "usage"),
    )


_RESPONSES_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def _responses_event(obj: dict[str, Any], file: str, line: int) -> UsageRecord | Skipped:
    """The last event of a streamed Responses API call (``response.completed`` / ``.incomplete`` / ``.failed``):
    its ``response`` is the Responses object, usage included (the events LiteLLM bills on its WebSocket path)."""
    resp = obj["response"]
    usage = resp.get("usage")
    if usage is None:
        return Skipped(file, line, f"a {obj['type']} event without usage")
    if not isinstance(usage, dict):
        raise BadField("response.usage", "must be an object")
    r = openai_responses(resp, usage, file, line)
    r.raw = obj
    return r


# -- OpenAI Realtime API --------------------------------------------------------------------------------

_REALTIME_NAMES = _names("response.usage", "input_token_details.cached_tokens",
                         "output_token_details.reasoning_tokens", "input_token_details.audio_tokens",
                         "output_token_details.audio_tokens")


def openai_realtime(obj: dict[str, Any], file: str, line: int) -> UsageRecord | Skipped:
    """A Realtime API ``response.done`` server event: ``response.usage`` is Responses-API usage with
    ``input_token_details`` / ``output_token_details`` (text, audio and image tokens; ``cached_tokens`` with
    their ``cached_tokens_details``), which LiteLLM prices per event through the same transform. The event
    itself names no model: the logger's ``model`` (or ``response.model``) is priced."""
    resp = _dict(obj, "response", "response")
    usage = resp.get("usage")
    if usage is None:
        return Skipped(file, line, f"a Realtime {obj.get('type')} event without usage")
    if not isinstance(usage, dict):
        raise BadField("response.usage", "must be an object")
    model = _model(obj.get("model") or resp.get("model"), "model")
    return _record(file, line, model, "openai-realtime", obj, _REALTIME_NAMES,
                   timestamp=_time(obj, "timestamp"), recorded_cost=_recorded(obj, "cost", "spend"),
                   **responses_counts(usage, "response.usage", "input_token_details", "output_token_details"))


# -- Anthropic Messages ---------------------------------------------------------------------------------

def anthropic_counts(usage: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Anthropic usage → canonical counts. ``input_tokens`` EXCLUDES cache reads and writes, so the prompt is
    their sum; ``cache_creation`` splits the writes by TTL. With ``iterations`` (one entry per sampling
    round) the rounds are summed, as LiteLLM does."""
    for key in ("prompt_tokens", "prompt_tokens_details", "input_tokens_details"):
        if key in usage:
            raise BadField(f"{prefix}.{key}", "OpenAI-style counts on an Anthropic usage (input_tokens excludes "
                                              "cache tokens there): conventions are mixed")
    rounds = usage.get("iterations")
    if rounds is not None and not (isinstance(rounds, list) and all(isinstance(r, dict) for r in rounds)):
        raise BadField(f"{prefix}.iterations", "must be a list of objects")
    if rounds:
        parts = rounds
        inp = sum(_count(r, "input_tokens", f"{prefix}.iterations[]") for r in parts)
        out = sum(_count(r, "output_tokens", f"{prefix}.iterations[]") for r in parts)
        read = sum(_count(r, "cache_read_input_tokens", f"{prefix}.iterations[]") for r in parts)
        write = sum(_count(r, "cache_creation_input_tokens", f"{prefix}.iterations[]") for r in parts)
        ttl = [r["cache_creation"] for r in parts if isinstance(r.get("cache_creation"), dict)]
        if ttl:
            five = sum(_count(c, "ephemeral_5m_input_tokens", f"{prefix}.iterations[].cache_creation") for c in ttl)
            hour = sum(_count(c, "ephemeral_1h_input_tokens", f"{prefix}.iterations[].cache_creation") for c in ttl)
        else:
            five, hour = _ttl_split(usage, prefix)
        thinking = [_thinking(r, f"{prefix}.iterations[]") for r in parts]
        reasoning = sum(t for t in thinking if t is not None) if None not in thinking else _thinking(usage, prefix)
    else:
        inp = _count(usage, "input_tokens", prefix)
        out = _count(usage, "output_tokens", prefix)
        read = _count(usage, "cache_read_input_tokens", prefix)
        write = _count(usage, "cache_creation_input_tokens", prefix)
        five, hour = _ttl_split(usage, prefix)
        reasoning = _thinking(usage, prefix)
    if five + hour > write:
        raise BadField(f"{prefix}.cache_creation",
                       f"ephemeral_5m_input_tokens + ephemeral_1h_input_tokens ({five} + {hour}) exceed "
                       f"cache_creation_input_tokens ({write})")
    return {
        "prompt_tokens": inp + read + write,
        "completion_tokens": out,
        "cache_read_tokens": read,
        "cache_write_tokens": write,
        "cache_write_1h_tokens": hour,
        "reasoning_tokens": reasoning or 0,
        "service_tier": _tier(usage.get("service_tier"), f"{prefix}.service_tier"),
        # where the request ran: LiteLLM multiplies the cost by the model's regional multiplier for it
        "extras": UsageExtras(inference_geo=_tier(usage.get("inference_geo"), f"{prefix}.inference_geo"),
                              speed=_tier(usage.get("speed"), f"{prefix}.speed")),
    }


def _ttl_split(usage: dict[str, Any], prefix: str) -> tuple[int, int]:
    cc = _dict(usage, "cache_creation", f"{prefix}.cache_creation")
    return (_count(cc, "ephemeral_5m_input_tokens", f"{prefix}.cache_creation"),
            _count(cc, "ephemeral_1h_input_tokens", f"{prefix}.cache_creation"))


def _thinking(usage: dict[str, Any], prefix: str) -> int | None:
    details = usage.get("output_tokens_details")
    if not isinstance(details, dict) or details.get("thinking_tokens") is None:
        return None
    return _count(details, "thinking_tokens", f"{prefix}.output_tokens_details")


def _anthropic_names(prefix: str) -> dict[str, str]:
    return _names(prefix, "cache_read_input_tokens", "output_tokens_details.thinking_tokens")


_ANTHROPIC_NAMES = _anthropic_names("usage")


def anthropic(obj: dict[str, Any], usage: dict[str, Any], file: str, line: int,
              shape: str = "anthropic") -> UsageRecord:
    """An Anthropic Messages response; ``usage.service_tier`` is the tier it was served at."""
    return _record(file, line, _model(obj.get("model"), "model"), shape, obj, _ANTHROPIC_NAMES,
                   recorded_cost=_recorded(obj, "cost", "spend"), **anthropic_counts(usage, "usage"))


def response(obj: dict[str, Any], file: str, line: int) -> UsageRecord | Skipped:
    """An object with a ``usage``: OpenAI Chat Completions, OpenAI Responses API or Anthropic Messages."""
    usage = obj["usage"]
    if usage is None:
        return Skipped(file, line, "no usage (a streamed chunk or an unfinished response)")
    if not isinstance(usage, dict):
        raise BadField("usage", "must be an object")
    if "prompt_tokens" in usage or "completion_tokens" in usage:
        return openai_chat(obj, usage, file, line)
    if "inputTokens" in usage or "outputTokens" in usage:
        return bedrock_converse(obj, usage, file, line)
    if "billed_units" in usage or "tokens" in usage:
        return cohere(obj, usage, "usage", file, line)
    if "input_tokens" in usage or "output_tokens" in usage:
        anthropic_marks = obj.get("type") == "message" or any(k in usage for k in _ANTHROPIC_CACHE_KEYS)
        responses_marks = obj.get("object") == "response" or "input_tokens_details" in usage
        if anthropic_marks and responses_marks:
            raise BadField("usage", "mixes the Anthropic convention (input_tokens excludes cache_read_input_tokens "
                                    "and cache_creation_input_tokens) with the Responses API's (input_tokens "
                                    "includes input_tokens_details.cached_tokens)")
        if responses_marks:
            return openai_responses(obj, usage, file, line)
        if anthropic_marks or "claude" in str(obj.get("model", "")):
            return anthropic(obj, usage, file, line)
        return openai_responses(obj, usage, file, line)  # without cache counts both conventions agree
    if not usage:
        return Skipped(file, line, "empty usage")
    raise BadField("usage", "has neither prompt_tokens/completion_tokens (OpenAI Chat Completions) nor "
                            "input_tokens/output_tokens (Anthropic Messages, OpenAI Responses API) nor "
                            "inputTokens/outputTokens (Bedrock Converse) nor billed_units/tokens (Cohere)")


# -- Amazon Bedrock Converse -----------------------------------------------------------------------------

_BEDROCK_NAMES = _names("usage", "cacheReadInputTokens", "outputTokens")
_BEDROCK_STREAM_EVENTS = frozenset({"messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop",
                                    "messageStop"})


def bedrock_converse(obj: dict[str, Any], usage: dict[str, Any], file: str, line: int) -> UsageRecord:
    """A Bedrock Converse response (or its stream's ``metadata`` event): ``inputTokens`` EXCLUDES
    ``cacheReadInputTokens`` and ``cacheWriteInputTokens``, so the prompt is their sum (LiteLLM's
    ``AmazonConverseConfig.transform_usage``); ``cacheDetails`` splits the writes by TTL when it accounts for all
    of them. The response names no model: the logger's ``model`` is priced as given, a ``modelId`` as
    ``bedrock/<modelId>``."""
    model = obj.get("model")
    if model is None and obj.get("modelId") is not None:
        model = _model(obj["modelId"], "modelId")
        model = model if model.startswith("bedrock/") else f"bedrock/{model}"
    inp = _count(usage, "inputTokens", "usage")
    read = _count(usage, "cacheReadInputTokens", "usage") or _count(usage, "cacheReadInputTokenCount", "usage")
    write = _count(usage, "cacheWriteInputTokens", "usage") or _count(usage, "cacheWriteInputTokenCount", "usage")
    hour = 0
    details = usage.get("cacheDetails")
    if details is not None:
        if not isinstance(details, list) or not all(isinstance(d, dict) for d in details):
            raise BadField("usage.cacheDetails", "must be a list of {ttl, inputTokens}")
        five = sum(_count(d, "inputTokens", "usage.cacheDetails[]") for d in details if d.get("ttl") == "5m")
        one_hour = sum(_count(d, "inputTokens", "usage.cacheDetails[]") for d in details if d.get("ttl") == "1h")
        if five + one_hour == write:  # LiteLLM ignores a split that does not account for every write
            hour = one_hour
    return _record(
        file, line, _model(model, "model"), "bedrock-converse", obj, _BEDROCK_NAMES,
        prompt_tokens=inp + read + write,
        completion_tokens=_count(usage, "outputTokens", "usage"),
        cache_read_tokens=read,
        cache_write_tokens=write,
        cache_write_1h_tokens=hour,
        timestamp=_time(obj, "timestamp"),
        recorded_cost=_recorded(obj, "cost", "spend"),
    )


# -- Cohere v2 chat and embed ----------------------------------------------------------------------------

def cohere(obj: dict[str, Any], usage: dict[str, Any], prefix: str, file: str, line: int) -> UsageRecord:
    """A Cohere v2 chat response (``usage.billed_units`` and ``usage.tokens``) or an embed response
    (``meta.billed_units``). Chat: LiteLLM's ``CohereV2ChatConfig`` bills ``usage.tokens`` (everything the model
    read and wrote, prompt template included), so that is priced, and ``billed_units`` only when ``tokens`` is
    absent. Embed: ``billed_units.input_tokens`` plus any ``images`` / ``image_tokens`` (LiteLLM's Cohere embed
    transformation bills image units as input tokens). Cohere's responses name no model: the logger's ``model``
    is priced."""
    billed = _dict(usage, "billed_units", f"{prefix}.billed_units")
    tokens = _dict(usage, "tokens", f"{prefix}.tokens")
    source, shown = (tokens, f"{prefix}.tokens") if tokens else (billed, f"{prefix}.billed_units")
    images = _count(billed, "images", f"{prefix}.billed_units") + _count(billed, "image_tokens",
                                                                         f"{prefix}.billed_units")
    prompt = _count(source, "input_tokens", shown)
    if prefix == "meta":  # embed: image units are input tokens of their own
        prompt += images
    return _record(
        file, line, _model(obj.get("model"), "model"), "cohere", obj, {},
        prompt_tokens=prompt,
        completion_tokens=_count(source, "output_tokens", shown),
        image_input_tokens=images if prefix == "meta" else 0,
        timestamp=_time(obj, "timestamp"),
        recorded_cost=_recorded(obj, "cost", "spend"),
    )


# -- Gemini generateContent ------------------------------------------------------------------------------

def _modalities(details: Any, field: str) -> dict[str, int]:
    out: dict[str, int] = {}
    if details is None:
        return out
    if not isinstance(details, list):
        raise BadField(field, "must be a list of {modality, tokenCount}")
    for d in details:
        if not isinstance(d, dict):
            raise BadField(field, "must be a list of {modality, tokenCount}")
        modality = d.get("modality", "")
        if not isinstance(modality, str):
            raise BadField(f"{field}[].modality", "must be a string")
        modality = modality.upper()
        out[modality] = out.get(modality, 0) + token_count(d, "tokenCount", f"{field}[].tokenCount")
    return out


def _grounded(obj: dict[str, Any]) -> bool:
    """Google Search / Maps grounding ran (its tool-use tokens are not billed as input; LiteLLM's rule)."""
    candidates = obj.get("candidates")
    if candidates is None:  # absent is not a wrong type (a response can carry usage without candidates)
        return False
    if not isinstance(candidates, list):
        raise BadField("candidates", "must be a list")
    for c in candidates:
        if not isinstance(c, dict):
            raise BadField("candidates[]", "must be an object")
        g = c.get("groundingMetadata")
        if g is not None and not isinstance(g, dict):
            raise BadField("candidates[].groundingMetadata", "must be an object")
        chunks = g.get("groundingChunks") if isinstance(g, dict) else None
        if isinstance(g, dict) and (g.get("webSearchQueries") or (isinstance(chunks, list) and any(
                isinstance(ch, dict) and ch.get("maps") for ch in chunks))):
            return True
    return False


_GEMINI_NAMES = {"cache": "usageMetadata.cachedContentTokenCount", "cache_1h": "usageMetadata",
                 "reasoning": "usageMetadata.thoughtsTokenCount", "cache_modality": "usageMetadata.cacheTokensDetails",
                 "image_out": "usageMetadata.candidatesTokensDetails",
                 "audio_in": "usageMetadata.promptTokensDetails", "audio_out": "usageMetadata.candidatesTokensDetails"}


_GEMINI_COUNT_KEYS = ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "toolUsePromptTokenCount",
                      "cachedContentTokenCount", "totalTokenCount", "responseTokenCount")


def gemini(obj: dict[str, Any], file: str, line: int) -> UsageRecord | Skipped:
    """A Gemini ``generateContent`` response. ``promptTokenCount`` INCLUDES ``cachedContentTokenCount``;
    ``thoughtsTokenCount`` is billed as output on top of ``candidatesTokenCount`` (completion = candidates +
    thoughts, reasoning = thoughts) unless ``totalTokenCount`` shows the candidates already contain them;
    ``toolUsePromptTokenCount`` is input unless search grounding ran. The model is ``modelVersion`` under the
    provider that answered: ``vertex_ai/`` when the response has Vertex's ``createTime`` / ``trafficType``,
    else ``gemini/`` (Google AI Studio), as a LiteLLM proxy with that deployment prices it."""
    um = obj["usageMetadata"]
    if not isinstance(um, dict):
        raise BadField("usageMetadata", "must be an object")
    if not um:
        return Skipped(file, line, "empty usageMetadata")
    if not any(key in um for key in _GEMINI_COUNT_KEYS):
        raise BadField("usageMetadata", "has no token counts (promptTokenCount, candidatesTokenCount, ...)")
    version = _model(obj.get("modelVersion") or obj.get("model"), "modelVersion").removeprefix("models/")
    vertex = "createTime" in obj or "trafficType" in um
    model = version if "/" in version else f"{'vertex_ai' if vertex else 'gemini'}/{version}"
    prompt = _count(um, "promptTokenCount", "usageMetadata")
    candidates = _count(um, "candidatesTokenCount", "usageMetadata")
    thoughts = _count(um, "thoughtsTokenCount", "usageMetadata")
    tool = _count(um, "toolUsePromptTokenCount", "usageMetadata")
    cached = _count(um, "cachedContentTokenCount", "usageMetadata")
    if cached > prompt:
        raise BadField("usageMetadata.cachedContentTokenCount",
                       f"cachedContentTokenCount ({cached}) exceeds promptTokenCount ({prompt}), which includes it "
                       "(the uncached prompt would be negative)")
    total = um.get("totalTokenCount")
    # LiteLLM's is_candidate_token_count_inclusive: the tool-use count as reported, grounding or not
    inclusive = bool(thoughts) and total is not None and total == prompt + candidates + tool
    if tool and _grounded(obj):
        tool = 0
    grounding, grounding_approximate = gemini_grounding(obj)
    # the Live API reports its output as responseTokenCount / responseTokensDetails
    candidates = _count(um, "responseTokenCount", "usageMetadata") or candidates
    prompt_parts = _modalities(um.get("promptTokensDetails"), "usageMetadata.promptTokensDetails")
    cached_parts = _modalities(um.get("cacheTokensDetails"), "usageMetadata.cacheTokensDetails")
    out_parts = _modalities(um.get("candidatesTokensDetails"), "usageMetadata.candidatesTokensDetails")
    live = _modalities(um.get("responseTokensDetails"), "usageMetadata.responseTokensDetails").get("AUDIO", 0)
    if live:  # LiteLLM reads TEXT and AUDIO from the Live API's details
        out_parts["AUDIO"] = out_parts.get("AUDIO", 0) + live
    return _record(
        file, line, model, "gemini", obj, _GEMINI_NAMES,
        prompt_tokens=prompt + tool,
        completion_tokens=candidates if inclusive else candidates + thoughts,
        cache_read_tokens=cached,
        reasoning_tokens=thoughts,
        audio_input_tokens=prompt_parts.get("AUDIO", 0),
        image_input_tokens=prompt_parts.get("IMAGE", 0),
        audio_output_tokens=out_parts.get("AUDIO", 0),
        extras=UsageExtras(cache_read_audio_tokens=cached_parts.get("AUDIO", 0),
                           cache_read_image_tokens=cached_parts.get("IMAGE", 0),
                           image_output_tokens=out_parts.get("IMAGE", 0),
                           video_output_tokens=out_parts.get("VIDEO", 0), tools=grounding,
                           # what LiteLLM's transformation writes to prompt_tokens_details.web_search_requests
                           search_queries=grounding.grounding_requests if grounding is not None else 0),
        approximate=grounding_approximate,
        service_tier=_GEMINI_TRAFFIC_TIERS.get(_tier(um.get("trafficType"), "usageMetadata.trafficType") or ""),
        timestamp=_time(obj, "createTime"),
        recorded_cost=_recorded(obj, "cost", "spend"),
    )


# -- LiteLLM proxy spend logs ---------------------------------------------------------------------------

def _json_field(obj: dict[str, Any], key: str) -> Any:
    """A JSON column as exported: an object already, or its text (database exports keep ``metadata`` and
    ``request_tags`` as JSON text). Parsed in place, so grouping by ``metadata.…`` and tags works."""
    value = obj.get(key)
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            value = obj[key] = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise BadField(key, "is text but not valid JSON") from None
    return value


_SPEND_LOG_NAMES = _names("metadata.usage_object", "prompt_tokens_details.cached_tokens",
                          "completion_tokens_details.reasoning_tokens", "prompt_tokens_details.audio_tokens",
                          "completion_tokens_details.audio_tokens")


def litellm_spend_log(obj: dict[str, Any], file: str, line: int) -> UsageRecord | Skipped:
    """A row of LiteLLM's ``LiteLLM_SpendLogs`` table (DB export or ``/spend/logs``), or a standard logging
    payload. ``model_group`` is the alias the client called and the one priced (a config ``model_name``);
    ``model_id`` the deployment; ``spend`` (``response_cost``) what the proxy charged. Token counts follow
    LiteLLM's convention (prompt includes cache); cache and reasoning counts come from
    ``metadata.usage_object`` (else ``metadata.additional_usage_values``). Cache hits, failures without usage
    and non-token call types are skipped."""
    call_type = obj.get("call_type") or ""
    if not isinstance(call_type, str):
        raise BadField("call_type", "must be a string")
    cache_hit = obj.get("cache_hit")
    if cache_hit is True or (isinstance(cache_hit, str) and cache_hit.lower() == "true"):
        return Skipped(file, line, CACHE_HIT_REASON)
    if obj.get("status") == "failure":
        # the proxy books $0 for a failed call (its row keeps the prompt's token count, spend 0)
        return Skipped(file, line, FAILURE_REASON)
    prompt = token_count(obj, "prompt_tokens")
    completion = token_count(obj, "completion_tokens")
    model = obj.get("model_group") or None
    if model is None:
        backend = _model(obj.get("model"), "model")
        provider = obj.get("custom_llm_provider")
        model = f"{provider}/{backend}" if provider and not backend.startswith(f"{provider}/") else backend
    model = _model(model, "model_group")
    metadata = _json_field(obj, "metadata")
    _json_field(obj, "request_tags")
    details: dict[str, Any] = {}
    if isinstance(metadata, dict):
        name = "usage_object" if metadata.get("usage_object") is not None else "additional_usage_values"
        source = metadata.get(name)
        if isinstance(source, dict):
            details = source
        elif source is not None:
            raise BadField(f"metadata.{name}", "must be an object")
    for key, value in (("prompt_tokens", prompt), ("completion_tokens", completion)):
        given = details.get(key)
        if given is not None and (given.__class__ is not int or given != value) \
                and token_count(details, key, f"metadata.usage_object.{key}") != value:
            raise BadField(f"metadata.usage_object.{key}", f"{given} disagrees with the row's {key} ({value})")
    counts = chat_details(details, "metadata.usage_object")
    # what LiteLLM's provider transformations left on its Usage: Anthropic's inference_geo, Perplexity's
    # citation_tokens and searches (prompt_tokens_details.web_search_requests)
    searches = details.get("prompt_tokens_details") or {}  # an object or nothing: chat_details checked it
    citations = _count(details, "citation_tokens", "metadata.usage_object")
    queries = _count(searches, "web_search_requests", "metadata.usage_object.prompt_tokens_details")
    geo = _tier(details.get("inference_geo"), "metadata.usage_object.inference_geo")
    speed = _tier(details.get("speed"), "metadata.usage_object.speed")
    # built-in tools the call used (web and file search: reading/tools.py), priced on top of the tokens
    tools, tools_approximate = tool_use(obj, details, metadata)
    extras = counts.pop("extras")
    if citations or queries or geo or speed or tools:  # (a copy of the extras per row, for nothing, was a tenth
        extras = replace(extras, citation_tokens=citations, search_queries=queries,  # of reading one)
                         inference_geo=geo, speed=speed, tools=tools)
    # a row's two times as ISO text (the common row) are parsed once for its duration and its timestamp
    span = iso_span(obj)
    r = UsageRecord(
        file, line, model,
        prompt_tokens=prompt,
        completion_tokens=completion,
        duration_s=duration(obj) if span is None else span[1],
        model_id=optional_str(obj, "model_id"),
        service_tier=billed_tier(obj, metadata, details),
        timestamp=_time(obj, "startTime") if span is None else span[0],
        recorded_cost=_recorded(obj, "spend", "response_cost"),
        batch=call_type in _BATCH_CALL_TYPES,
        shape="litellm-spend-log",
        raw=obj,
        # a pass-through call without usage is priced by its endpoint's cost_per_request (pricing/passthrough.py)
        call_type=call_type if call_type and (call_type not in TOKEN_CALL_TYPES or (
            call_type == "pass_through_endpoint" and not prompt and not completion)) else None,
        call_units=None if not call_type or call_type in TOKEN_CALL_TYPES else call_units(obj, details),
        text_completion=call_type in _TEXT_COMPLETION_CALL_TYPES,
        approximate=tools_approximate,
        extras=extras or None,  # none of the rarer parts: the record takes the common pricing path
        **counts,
    )
    check_conventions(r, _SPEND_LOG_NAMES)
    return r


def _whole(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _dollars(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def call_units(obj: dict[str, Any], usage_object: dict[str, Any] | None = None) -> CallUnits:
    """The units of a non-token call as the proxy logged them. A standard logging payload carries the response
    (``response``: an image call's ``data`` and ``usage``, and ``size``/``quality`` where the provider states them;
    a transcription's ``duration`` or ``usage.seconds``) and part of the request's optional parameters
    (``model_parameters``: ``n``, not ``size`` or ``quality``: ModelParamHelper.relevant_logging_args); a spend-log
    row only with stored prompts (``response``, ``proxy_server_request``: the request body, where an image call's
    ``size``/``quality`` and a speech call's ``input`` are). Both carry the usage LiteLLM logged
    (``metadata.usage_object``: an image call's tokens in chat form and ``output_image_count``, the images its
    response held: litellm_logging.get_standard_logging_object_payload)."""
    response = logged_object(obj, "response")
    request = logged_object(obj, "proxy_server_request")
    request = request.get("body") if isinstance(request.get("body"), dict) else request
    params = {**request, **logged_object(obj, "model_parameters")}
    logged_usage = usage_object if isinstance(usage_object, dict) else {}
    data = response.get("data")
    usage = response.get("usage") if isinstance(response.get("usage"), dict) else {}
    seconds = response.get("duration")
    from_usage = False
    if seconds is None and usage.get("type") == "duration":
        seconds, from_usage = usage.get("seconds"), True
    if seconds is None:
        seconds = usage.get("duration_seconds")  # a video response (VideoObject.usage)
    text = request.get("input")
    messages = obj.get("messages")
    if not isinstance(text, str) and isinstance(messages, str):
        # LiteLLM's function_setup logs a speech call's input as its messages: the text itself in a payload, JSON
        # text in a spend-log row ("{}" when prompts are not stored)
        if "model_parameters" in obj:
            text = messages
        else:
            try:
                text = orjson.loads(messages)
            except orjson.JSONDecodeError:
                text = None
    meta = response.get("meta") if isinstance(response.get("meta"), dict) else {}
    billed = meta.get("billed_units") if isinstance(meta.get("billed_units"), dict) else {}
    extra = params.get("extra_body") if isinstance(params.get("extra_body"), dict) else {}
    # an OCR call's usage_info, from the response, else from the usage object, where LiteLLM's logging puts it too
    # (get_usage_object: metadata.usage_object of a payload and of a row with or without stored prompts)
    ocr = response.get("usage_info") if isinstance(response.get("usage_info"), dict) else \
        logged_usage if "pages_processed" in logged_usage or "credits" in logged_usage else {}
    meta_field = obj.get("metadata")
    mcp = meta_field.get("mcp_tool_call_metadata") if isinstance(meta_field, dict) else None
    credits = ocr.get("credits")
    images = len(data) if isinstance(data, list) else None
    if images is None and not response:
        images = _whole(logged_usage.get("output_image_count"))
    return CallUnits(
        videos=_whole(usage.get("video_count")),
        video_resolution=_text(usage.get("video_resolution")),
        input_images=_whole(usage.get("billable_input_image_count")) or 0,
        video_reported_cost=_dollars(usage.get("provider_reported_cost_usd")),
        search_units=_whole(billed.get("search_units")),
        rerank_tokens=_whole(billed.get("total_tokens")),
        max_results=_whole(params.get("max_results")),
        search_modes=tuple((k, params[k]) for k in ("search_depth", "depth") if _text(params.get(k))),
        mcp_call=_mcp_call(mcp) if isinstance(mcp, dict) else None,
        ocr_pages=_whole(ocr.get("pages_processed")),
        ocr_annotation_pages=_whole(ocr.get("pages_processed_annotation")) or 0,
        ocr_credits=float(credits) if isinstance(credits, (int, float)) and not isinstance(credits, bool)
        and credits >= 0 else None,
        response_logged=bool(response),
        images=images,
        requested_images=_whole(params.get("n")),
        size=_text(response.get("size")) or _text(params.get("size")),
        quality=_text(response.get("quality")) or _text(params.get("quality")),
        characters=sum(1 for ch in text if not ch.isspace()) if isinstance(text, str) else None,
        text_length=len(text) if isinstance(text, str) else None,
        seconds=float(seconds) if isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
        and seconds >= 0 else None,
        seconds_from_usage=from_usage,
        image_usage=_image_usage(usage if "input_tokens" in usage else None, logged_usage),
        steps=_whole(params.get("steps")),
        resolution=_text(params.get("resolution")) or _text(extra.get("resolution")),
        reported_ticks=_whole(usage.get("cost_in_usd_ticks", logged_usage.get("cost_in_usd_ticks"))),
        fal_image_size=params.get("image_size") if isinstance(params.get("image_size"), (str, dict)) else None,
        image_dimensions=tuple(_dimensions(d) for d in data) if isinstance(data, list) else None,
        request_logged=bool(request),
    )


def _price_value(value: Any) -> float | None:
    """A logged price: a number, or numeric text (the proxy coerces a config's prices to float, dropping others)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        price = float(value)
    except ValueError:
        return None
    return price if price >= 0 and price == price and price != float("inf") else None


def _mcp_call(mcp: dict[str, Any]) -> tuple[str, float | None, tuple[tuple[str, float], ...]]:
    """An MCP tool call's name and its server's cost info, from ``mcp_tool_call_metadata``."""
    info = mcp.get("mcp_server_cost_info") if isinstance(mcp.get("mcp_server_cost_info"), dict) else {}
    per_tool = info.get("tool_name_to_cost_per_query") if isinstance(info.get("tool_name_to_cost_per_query"),
                                                                        dict) else {}
    tools = tuple((str(k), p) for k, v in per_tool.items() if (p := _price_value(v)) is not None)
    name = mcp.get("name")
    return (name if isinstance(name, str) else "", _price_value(info.get("default_cost_per_query")), tools)


def _dimensions(image: Any) -> tuple[int, int] | None:
    """An image's (width, height) from its ``provider_specific_fields`` (fal.ai states them), else None."""
    fields = image.get("provider_specific_fields") if isinstance(image, dict) else None
    if not isinstance(fields, dict):
        return None
    width, height = fields.get("width"), fields.get("height")
    return (width, height) if type(width) is int and type(height) is int and width > 0 and height > 0 else None


def _detail(details: Any, key: str) -> int:
    value = details.get(key) if isinstance(details, dict) else None
    return value if type(value) is int and value > 0 else 0


def _image_usage(image_usage: dict[str, Any] | None, chat_usage: dict[str, Any]
                 ) -> tuple[int, int, int, int, int, int] | None:
    """An image call's usage as ``calculate_image_response_cost_from_usage`` (litellm_core_utils/llm_cost_calc/
    utils.py) normalises it: (prompt, image input, completion, image output, reasoning, audio output) tokens. Read
    from the response's own usage (``input_tokens``, ``output_tokens``, their ``*_details``), else from the chat-form
    usage LiteLLM logged (``prompt_tokens``, ``completion_tokens``, ``*_tokens_details``). Output tokens the
    provider does not itemise are all image tokens; itemised ones keep their split, the unitemised rest as text.
    None: no usage, or an all-zero one (LiteLLM then prices per image)."""
    if image_usage is not None:
        prompt, completion, total = (image_usage.get(k) for k in ("input_tokens", "output_tokens", "total_tokens"))
        inputs = image_usage.get("input_tokens_details")
        outputs = image_usage.get("completion_tokens_details") or image_usage.get("output_tokens_details")
    else:
        prompt, completion, total = (chat_usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens"))
        inputs = chat_usage.get("prompt_tokens_details")
        outputs = chat_usage.get("completion_tokens_details")
    if type(prompt) is not int or type(completion) is not int or type(total) is not int \
            or min(prompt, completion, total) < 0 or not (prompt or completion or total):
        return None
    if not isinstance(outputs, dict):
        return prompt, _detail(inputs, "image_tokens"), completion, completion, 0, 0
    return (prompt, _detail(inputs, "image_tokens"), completion, _detail(outputs, "image_tokens"),
            _detail(outputs, "reasoning_tokens"), _detail(outputs, "audio_tokens"))


def billed_tier(obj: dict[str, Any], metadata: Any, details: dict[str, Any]) -> str | None:
    """The service tier the proxy priced a logged call at. LiteLLM resolves it once (the served tier, else the
    requested one: ``cost_calculator._resolve_billable_service_tier``) and logs the result as
    ``cost_breakdown.service_tier`` (standard logging payload) or ``metadata.cost_breakdown.service_tier``
    (spend-log row) beside the ``total_cost`` it booked, null meaning the base rates; only logs without a
    breakdown (older proxies, or none booked) fall back to the usage object's own ``service_tier``."""
    for where, holder in (("metadata.cost_breakdown", metadata), ("cost_breakdown", obj)):
        breakdown = holder.get("cost_breakdown") if isinstance(holder, dict) else None
        if isinstance(breakdown, dict) and breakdown.get("total_cost") is not None:
            return _tier(breakdown.get("service_tier"), f"{where}.service_tier")
    return _tier(details.get("service_tier"), "metadata.usage_object.service_tier")


# -- Claude Code transcripts -----------------------------------------------------------------------------

def claude_code(obj: dict[str, Any], file: str, line: int) -> UsageRecord | Skipped:
    """A line of a Claude Code session transcript (``~/.claude/projects/**/*.jsonl``). Assistant lines carry
    ``message.model`` and ``message.usage`` (Anthropic convention); everything else is skipped. Streaming
    writes a message several times, and a side chain (``isSidechain``) replays earlier messages under a new
    ``requestId``: Anthropic message ids are unique per response, so ``dedup_key`` is the message id alone and
    ``read_usage`` keeps the last line written for it. ``raw`` keeps the line without the message content, so
    held records stay small."""
    message = obj.get("message")
    if not isinstance(message, dict) or message.get("usage") is None:
        return Skipped(file, line, f"no usage (a transcript {obj.get('type') or 'line'} line)")
    model = _model(message.get("model"), "message.model")
    if model == "<synthetic>":
        return Skipped(file, line, "a message Claude Code wrote itself (model <synthetic>, no API call)")
    usage = message["usage"]
    if not isinstance(usage, dict):
        raise BadField("message.usage", "must be an object")
    raw = {k: v for k, v in obj.items() if k not in ("message", "toolUseResult")}
    raw["message"] = {k: v for k, v in message.items() if k != "content"}
    message_id = message.get("id")
    return _record(
        file, line, model, "claude-code", raw, _anthropic_names("message.usage"),
        timestamp=_time(obj, "timestamp"),
        recorded_cost=_recorded(obj, "costUSD"),
        dedup_key=message_id if isinstance(message_id, str) and message_id else None,
        **anthropic_counts(usage, "message.usage"),
    )


# -- batch output files ----------------------------------------------------------------------------------

def batch_output(obj: dict[str, Any], file: str, line: int) -> UsageRecord | Skipped:
    """A line of an OpenAI Batch API output file (``custom_id``, ``response.body``) or of an Anthropic
    Message Batches results file (``custom_id``, ``result.message``), priced at batch rates. Failed,
    errored, cancelled and expired requests are skipped (nothing is billed for them)."""
    if "result" in obj:
        result = obj.get("result")
        if not isinstance(result, dict) or result.get("type") != "succeeded":
            kind = result.get("type") if isinstance(result, dict) else None
            return Skipped(file, line, f"batch request not succeeded ({kind or 'no result'})")
        message = _dict(result, "message", "result.message")
        usage = message.get("usage")
        if not isinstance(usage, dict) or not usage:
            return Skipped(file, line, "batch result has no usage")
        if "input_tokens" not in usage and "output_tokens" not in usage:
            raise BadField("result.message.usage", "has neither input_tokens nor output_tokens")
        r = _record(file, line, _model(message.get("model"), "result.message.model"), "anthropic-batch", obj,
                    _anthropic_names("result.message.usage"),
                    **anthropic_counts(usage, "result.message.usage"))
    else:
        resp = obj.get("response")
        if obj.get("error") or not isinstance(resp, dict):
            error = obj.get("error")
            code = error.get("code") if isinstance(error, dict) else None
            return Skipped(file, line, f"batch request failed ({code or 'no response'})")
        if resp.get("status_code") != 200:
            return Skipped(file, line, f"batch request failed (status {resp.get('status_code')})")
        body = _dict(resp, "body", "response.body")
        usage = body.get("usage")
        if not isinstance(usage, dict) or not usage:
            return Skipped(file, line, "batch response has no usage")
        if "prompt_tokens" in usage or "completion_tokens" in usage:
            r = openai_chat(body, usage, file, line, "openai-batch")
        elif "input_tokens" in usage or "output_tokens" in usage:
            r = openai_responses(body, usage, file, line, "openai-batch")
        else:
            raise BadField("response.body.usage", "has neither prompt_tokens/completion_tokens nor "
                                                  "input_tokens/output_tokens")
        r.raw = obj
    r.batch = True
    r.service_tier = None  # batch lines are billed at batch rates whatever tier they name
    return r
