"""Reference side of costcalc's differential tests: what a LiteLLM 1.110.2 *proxy* books for one usage record.

Test support only -- the product never imports this module.  Needs ``litellm==1.110.2`` (the ``test`` extra) and
must run offline: ``LITELLM_LOCAL_MODEL_COST_MAP=True`` is set here (before LiteLLM is imported) if the caller did
not set it.

Public interface
----------------
``litellm_cost(model_list, record, litellm_settings=None) -> float | None``
    One-shot helper: builds a ``ProxyOracle`` and prices one record.  ``None`` when LiteLLM raises (Router
    construction rejects the config, the call fails, or the cost calculator fails, e.g. an unmapped model).
``ProxyOracle(model_list, litellm_settings=None, router_settings=None)``
    One ``litellm.Router`` per config, reused for every record.  ``.cost(record)`` prices one record,
    ``.price(record)`` returns an ``OraclePrice`` with the diagnostics (path taken, both booked values, error).
    Constructing an oracle first restores LiteLLM's global state to its import-time snapshot (see "Isolation");
    using an older oracle after a newer one was built transparently re-activates (rebuilds) the older one.
``build_usage(record) -> litellm.Usage``
    The ``Usage`` a record is priced with (exposed so tests can show what was fed to LiteLLM).

What is exercised (the proxy's success path, PRICING.md section 1)
------------------------------------------------------------------
* ``litellm.Router(model_list=deepcopy(model_list), num_retries=0, disable_cooldowns=True)`` -- Router construction
  registers every deployment's prices into ``litellm.model_cost`` exactly as the proxy's does (PRICING.md 7.1).
  ``num_retries=0`` / ``disable_cooldowns=True`` only stop a failing record (e.g. a service tier the provider
  rejects) from retrying or cooling a deployment down for the following records; they do not touch pricing.
* Each record is sent as ``await router.acompletion(model=..., messages=[...], mock_response=<ModelResponse>)``,
  the call the proxy makes, on one persistent event loop (a daemon thread).  ``mock_response`` is a
  ``ModelResponse`` carrying the exact ``Usage`` built from the record; ``litellm.main.mock_completion`` returns it
  unchanged, so everything around it is real: Router deployment selection and kwargs (``metadata.model_info``),
  ``litellm.acompletion``/``completion`` with the deployment's ``litellm_params``, ``per_call_model_info`` for
  request prices, the ``@client`` wrapper, ``update_response_metadata`` -> ``Logging.response_cost_calculator``
  -> ``litellm.response_cost_calculator`` -> ``completion_cost`` (discount and margin included), and the async
  success handler that builds the ``standard_logging_object``.
* The booked cost is ``standard_logging_object["response_cost"]`` as delivered to a ``CustomLogger``'s
  ``async_log_success_event`` (what ``proxy/hooks/proxy_track_cost_callback.py`` books).  It is cross-checked
  against ``response._hidden_params["response_cost"]``; ``OraclePrice.hidden_cost`` keeps the latter and
  ``OraclePrice.mismatch`` flags any difference (none seen).

Which model is called
---------------------
``ProxyOracle._select`` mirrors the Router's matching and makes it deterministic where the Router would
load-balance at random (``OraclePrice.called_model`` / ``deployment_id`` show the outcome):

1. ``record["model"]`` is a config ``model_name``: the deployment whose ``model_info.id`` equals
   ``record["model_id"]``, else the FIRST deployment of that name in config order.  With a single deployment the
   alias itself is sent; otherwise the chosen deployment's id (the Router routes an id to its deployment; for
   deployments without a configured id, the id the Router generated).
2. Else a wildcard deployment matches (``router.registry().deployments(model, source="wildcard")``: ``openai/*``,
   ``*``, ...): the model is sent as is.  NB the Router routes a bare ``gpt-4o`` to ``openai/*``, and prefers a
   wildcard to rule 3.  Several wildcard deployments with the SAME pattern are still load-balanced by the Router.
3. Else deployments whose ``litellm_params.model`` equals the model (the Router accepts those too, load-balancing
   over all of them): the first in config order (by id when there are several).
4. Else -- or when the Router still answers "no healthy deployments for this model" -- the plain SDK path:
   ``litellm.acompletion(model=record["model"], ...)`` with the same mock and kwargs, no Router.  The Router's
   registrations for the active config stay in ``litellm.model_cost`` (as in the proxy process).

``OraclePrice.path`` says which path ran: ``router``, ``sdk`` or ``batch``.

When the result is None
-----------------------
* the call raises (``BadRequestError`` "LLM Provider NOT provided" for ``GPT-4O``/unknown names,
  ``UnsupportedParamsError`` for a rejected service tier, ...), or
* the cost calculation raised: ``Logging.response_cost_calculator`` swallows it (hidden ``response_cost`` None)
  and the ``standard_logging_object`` then carries ``response_cost: 0.0`` with
  ``response_cost_failure_debug_info`` -- which is what a proxy would book (0.0).  The oracle returns None there
  (``OraclePrice.slo_cost`` keeps the 0.0, ``.error`` the reason), e.g. ``anthropic/claude-3-5-sonnet-20241022``
  (not in this map) or ``azure/my-deployment`` on the SDK path.  Under a Router an unmapped deployment is 0.0
  without any error (its backend key is registered empty), and the oracle returns 0.0.
* ``ProxyOracle(...)`` itself raises when the Router rejects the config (e.g. ``os.environ/X`` as a
  ``model_info`` price); ``litellm_cost`` turns that into None.

Response model (PRICING.md 6.3)
-------------------------------
``ModelResponse.model`` is set to the ``model`` argument LiteLLM hands ``mock_completion``, i.e. the deployment's
own backend model after ``get_llm_provider`` stripped the provider (``anthropic/claude-sonnet-4-5-20250929`` ->
``claude-sonnet-4-5-20250929``, ``azure/my-deployment`` -> ``my-deployment``; for a wildcard deployment, the
resolved model).  That is exactly what LiteLLM's own string mocks set, and it means "a priced response model beats
the deployment model" can never change the price here.  This is done by wrapping ``litellm.main.mock_completion``
(it only fills ``.model`` of the oracle's own ``ModelResponse`` objects).

Record fields -> LiteLLM
------------------------
* ``prompt_tokens`` -> ``Usage.prompt_tokens`` (P, already including cache read/write, audio, image);
  ``completion_tokens`` -> ``Usage.completion_tokens`` (C); ``total_tokens = P + C``.
* ``prompt_tokens_details`` (only the keys the record has; absent altogether when it has none):
  ``cache_read_input_tokens`` -> ``cached_tokens``; ``cache_creation_input_tokens`` -> ``cache_write_tokens``
  (LiteLLM mirrors it into ``cache_creation_tokens``); ``cache_creation_1h_input_tokens`` (H) ->
  ``cache_creation_token_details = {ephemeral_1h_input_tokens: H, ephemeral_5m_input_tokens: max(CW - H, 0)}``;
  ``audio_input_tokens`` -> ``audio_tokens``; ``image_input_tokens`` -> ``image_tokens``.
  The top-level Anthropic attributes ``Usage.cache_read_input_tokens`` / ``cache_creation_input_tokens`` are NOT
  set (the chat cost path reads only ``prompt_tokens_details``; PRICING.md 2.1).
* ``completion_tokens_details`` (same rule): ``reasoning_tokens`` -> ``reasoning_tokens``,
  ``audio_output_tokens`` -> ``audio_tokens``, ``image_output_tokens`` -> ``image_tokens``.  No ``text_tokens``
  are set on either side.
* The rarer parts (``costcalc.reading.records.UsageExtras``): ``cache_read_audio_tokens`` /
  ``cache_read_image_tokens`` -> ``prompt_tokens_details.cached_tokens_details.{audio,image}_tokens``;
  ``search_queries`` -> ``prompt_tokens_details.web_search_requests``; ``web_search_requests`` (Anthropic's
  server-side searches) -> ``Usage.server_tool_use.web_search_requests``; ``citation_tokens``,
  ``inference_geo`` and ``speed`` -> the ``Usage`` attributes of those names (what LiteLLM's Perplexity and Anthropic
  transformations set).
* ``duration_s`` (else ``response_time_ms`` / 1000; else 0) -> the measured response time: the wrapper
  ``litellm.litellm_core_utils.llm_response_utils.response_metadata.response_timing_metrics`` (which
  ``ResponseMetadata.set_timing_metrics`` calls to stamp ``result._response_ms`` right before pricing) returns
  ``{"_response_ms": duration_s * 1000}`` for the oracle's calls (matched by ``litellm_call_id``).
  ``cost_calculator._response_time_ms_for_cost`` reads that stamp first, so per-second prices see exactly
  ``duration_s * 1000`` ms.  A record without a duration is priced with 0 ms (a real proxy would use its own
  wall clock).
* ``service_tier`` -> the request's ``service_tier`` kwarg (``optional_params["service_tier"]``).  Providers that
  reject the value raise (Anthropic accepts only auto/default/standard_only unless ``drop_params``), so such
  records give ``None``.
* Per-request prices: every record key that is a field of ``litellm.types.utils.CustomPricingLiteLLMParams``
  (157 names: ``input_cost_per_token``, ``cache_read_input_token_cost``, ``input_cost_per_second``,
  ``tiered_pricing``, ...) and not None is passed as a call kwarg, as an SDK caller (or a proxy client with
  ``allow_client_pricing_override``) would; ``main.completion`` turns them into ``per_call_model_info``.  Other
  price-looking keys are not passed (LiteLLM would forward unknown kwargs to the provider, not price them).
* ``timestamp`` (epoch seconds or ISO 8601, naive = UTC): the call is made inside LiteLLM's own
  ``litellm._internal_context.pinned_billing_time(<timestamp>)``, so time-dependent prices (``off_peak_pricing``,
  read through ``current_billing_time()``) are those of the moment of the request.  Without a (parsable)
  timestamp the current clock is used, as a live proxy would.
* ``model_id``: deployment selection, above.  Other record fields (user, tags, metadata, ...) are unused.
* ``batch: true`` -> see "Batch records".

litellm_settings
----------------
``cost_discount_config`` and ``cost_margin_config`` are applied with ``setattr(litellm, key, value)`` exactly like
``ProxyConfig`` does; ``drop_params`` like the proxy (``drop_params_flag``).  Every other key is ignored (it cannot
change a price, and many would start callbacks or caches).

Batch records (``record["batch"]`` truthy)
-------------------------------------------
The proxy prices a finished batch in ``Logging.async_success_handler`` (``aretrieve_batch``) ->
``batches.batch_utils.handle_completed_batch`` -> ``_aggregate_batch_cost_usage_models`` -> one
``_output_line_cost`` -> ``cost_calculator.batch_cost_calculator`` per output line (``get_batch_cost_rates``:
``*_batches`` keys, else half the standard rate).  Retrieving a batch needs the provider's files API, so the oracle
calls the pure part of that chain directly: ``batches.batch_utils.batch_cost_and_usage([line], provider,
model_name, model_info)`` with one synthetic output line in the provider's native results format: OpenAI's
``{"custom_id", "response": {"status_code": 200, "body": {"model", "usage"}}}`` (openai, azure and every other
provider; usage OpenAI-shaped as above), Anthropic's ``{"custom_id", "result": {"type": "succeeded", "message":
{"model", "usage"}}}`` and Bedrock's ``{"modelOutput": {"model", "usage"}}``, whose usage LiteLLM parses as
Anthropic usage (``input_tokens`` = P - CR - CW, ``output_tokens`` = C, ``cache_read_input_tokens``,
``cache_creation_input_tokens``, ``cache_creation.ephemeral_{5m,1h}_input_tokens``; reasoning/audio/image counts
cannot be expressed there).  ``body.model`` is the stripped backend model (``_output_line_cost`` prices
``body.model or model_name``, ignoring ``base_model``; a real Azure output line names the underlying model, e.g.
``gpt-4o-2024-08-06``, which LiteLLM would price instead of an unmapped deployment name).
``model_name``/``model_info`` are what ``Logging`` passes: with a matching deployment, its ``litellm_params.model``
and ``litellm_logging.deployment_pricing_model_info(model_id=<deployment id>, deployment_model=...)``; otherwise
the record's model and ``None``.  ``provider`` comes from ``get_llm_provider``.  Not exercised on this path:
Router request flow, per-request prices, service tier, duration, the ``standard_logging_object``.  A model the
map does not know gives None (``batch_cost_calculator`` would swallow ``ModelNotMappedError`` and book 0.0; the
oracle checks ``get_model_info`` first when no deployment pricing applies).  Discount/margin: read in code, not
exercised -- ``async_success_handler`` overwrites the batch's hidden ``response_cost`` with the raw
``BatchCostUsageResult.cost`` (no ``cost_discount_config``/``cost_margin_config``), so the oracle applies none.
Note ``get_batch_cost_rates`` has no 1-hour batch key for claude-sonnet-4-5: 1h writes are billed at the 5-minute
batch rate ``cache_creation_input_token_cost_batches``.

Isolation
---------
At import the oracle snapshots ``litellm.model_cost``, the per-provider model-name sets and ``models_by_provider``,
the runtime-registration dicts in ``litellm.utils`` and the settings it touches (``cost_discount_config``,
``cost_margin_config``, ``drop_params``, ``suppress_debug_info``).  Before a config is (re)activated all of it is
restored in place and LiteLLM's model-info LRU caches are invalidated
(``utils._invalidate_model_cost_lowercase_map``), so deployment registrations, id collisions and settings never leak
between configs.  Records priced under ONE oracle do share process state, as requests in one proxy do.

Noise: LiteLLM's loggers are raised to CRITICAL and ``litellm.suppress_debug_info`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import math
import os
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
import litellm.main as _litellm_main
import litellm.utils as _litellm_utils
from litellm._internal_context import pinned_billing_time
from litellm.integrations.custom_logger import CustomLogger
from litellm.litellm_core_utils.llm_response_utils import response_metadata as _response_metadata
from litellm.types.utils import CustomPricingLiteLLMParams, ModelResponse, Usage

__all__ = ["PRICE_FIELDS", "OraclePrice", "ProxyOracle", "build_usage", "litellm_cost"]

#: Record keys passed to LiteLLM as per-call price kwargs (PRICING.md 7.5).
PRICE_FIELDS: tuple[str, ...] = tuple(CustomPricingLiteLLMParams.model_fields)

_MESSAGES = [{"role": "user", "content": "costcalc oracle"}]
_CALLBACK_TIMEOUT_S = 10.0
_NO_DEPLOYMENT_MARKERS = ("no healthy deployments for this model", "Invalid model name passed in")

# ----------------------------------------------------------------------------------------------------------------
# noise
# ----------------------------------------------------------------------------------------------------------------

for _name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)
litellm.suppress_debug_info = True
litellm.set_verbose = False
litellm.telemetry = False

# ----------------------------------------------------------------------------------------------------------------
# global-state snapshot / restore
# ----------------------------------------------------------------------------------------------------------------

_SETTINGS = ("cost_discount_config", "cost_margin_config", "drop_params", "suppress_debug_info")
_UTILS_REGISTRIES = (
    "_runtime_registered_model_cost",
    "_runtime_registration_order",
    "_runtime_registered_names",
)


def _take_snapshot() -> dict[str, Any]:
    return {
        "model_cost": copy.deepcopy(litellm.model_cost),
        "sets": {k: set(v) for k, v in vars(litellm).items() if isinstance(v, set)},
        "models_by_provider": copy.deepcopy(getattr(litellm, "models_by_provider", {})),
        "utils": {
            k: copy.deepcopy(getattr(_litellm_utils, k))
            for k in _UTILS_REGISTRIES
            if hasattr(_litellm_utils, k)
        },
        "settings": {k: copy.deepcopy(getattr(litellm, k, None)) for k in _SETTINGS},
    }


_SNAPSHOT = _take_snapshot()


def _restore_dict(live: dict, saved: dict) -> None:
    for key in [k for k in live if k not in saved]:
        del live[key]
    for key, value in saved.items():
        if key not in live or live[key] != value:
            live[key] = copy.deepcopy(value)


def _reset_litellm_state() -> None:
    """Put every piece of LiteLLM global state a Router build or a call can change back to the import snapshot."""
    _restore_dict(litellm.model_cost, _SNAPSHOT["model_cost"])
    for name, saved in _SNAPSHOT["sets"].items():
        live = getattr(litellm, name, None)
        if isinstance(live, set) and live != saved:
            live.clear()
            live.update(saved)
    mbp = getattr(litellm, "models_by_provider", None)
    if isinstance(mbp, dict):
        _restore_dict(mbp, _SNAPSHOT["models_by_provider"])
    for name, saved in _SNAPSHOT["utils"].items():
        live = getattr(_litellm_utils, name)
        if isinstance(live, dict):
            live.clear()
            live.update(copy.deepcopy(saved))
    for name, saved in _SNAPSHOT["settings"].items():
        setattr(litellm, name, copy.deepcopy(saved))
    litellm.suppress_debug_info = True
    _litellm_utils._invalidate_model_cost_lowercase_map()  # clears get_model_info / cost-key LRU caches too


# ----------------------------------------------------------------------------------------------------------------
# hooks: response model, measured duration, standard_logging_object capture
# ----------------------------------------------------------------------------------------------------------------

_FORCED_RESPONSE_MS: dict[str, float] = {}  # litellm_call_id -> duration to report
_OWN_RESPONSES: dict[int, ModelResponse] = {}  # id(mock ModelResponse) -> the object (keeps id stable)
_ORIGINAL_TIMING = _response_metadata.response_timing_metrics
_ORIGINAL_MOCK_COMPLETION = _litellm_main.mock_completion


def _timing_metrics(start_time, end_time, logging_obj, include_overhead=True):
    forced = _FORCED_RESPONSE_MS.get(getattr(logging_obj, "litellm_call_id", None) or "")
    if forced is None:
        return _ORIGINAL_TIMING(start_time, end_time, logging_obj, include_overhead)
    return {"_response_ms": forced}


def _mock_completion(model, messages, *args, **kwargs):
    mock = kwargs.get("mock_response")
    if isinstance(mock, ModelResponse) and id(mock) in _OWN_RESPONSES:
        # what LiteLLM's own string mock sets: the deployment's backend model, provider stripped
        mock.model = model
    return _ORIGINAL_MOCK_COMPLETION(model, messages, *args, **kwargs)


def _settle(fut: asyncio.Future, value: object) -> None:
    if not fut.done():
        fut.set_result(value)


class _Capture(CustomLogger):
    """Collects ``standard_logging_object`` per ``litellm_call_id`` -- what the proxy's spend tracker books."""

    def __init__(self) -> None:
        super().__init__()
        self.waiters: dict[str, asyncio.Future] = {}

    def _deliver(self, kwargs) -> None:
        slo = kwargs.get("standard_logging_object") or {}
        call_id = kwargs.get("litellm_call_id") or slo.get("id")
        fut = self.waiters.get(call_id or "")
        if fut is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is fut.get_loop():
            _settle(fut, slo)
        else:  # delivered from another thread: hand it to the oracle's loop
            fut.get_loop().call_soon_threadsafe(_settle, fut, slo)

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._deliver(kwargs)


_CAPTURE = _Capture()


def _install_hooks() -> None:
    if _response_metadata.response_timing_metrics is not _timing_metrics:
        _response_metadata.response_timing_metrics = _timing_metrics
    if _litellm_main.mock_completion is not _mock_completion:
        _litellm_main.mock_completion = _mock_completion
    if _CAPTURE not in litellm.callbacks:
        litellm.callbacks.append(_CAPTURE)


# ----------------------------------------------------------------------------------------------------------------
# event loop (one, on a daemon thread, so the oracle also works when the caller already runs a loop)
# ----------------------------------------------------------------------------------------------------------------

_LOOP: asyncio.AbstractEventLoop | None = None
_LOOP_LOCK = threading.Lock()


def _run(coro):
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None:
            _LOOP = asyncio.new_event_loop()
            threading.Thread(target=_LOOP.run_forever, name="litellm-oracle-loop", daemon=True).start()
    return asyncio.run_coroutine_threadsafe(coro, _LOOP).result()


# ----------------------------------------------------------------------------------------------------------------
# record -> Usage
# ----------------------------------------------------------------------------------------------------------------


def _count(record: dict, key: str) -> int | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise ValueError(f"{key}={value!r} is not a whole number")
        return int(value)
    return int(value)


def build_usage(record: dict) -> Usage:
    """The ``Usage`` the record is priced with (mapping in the module docstring)."""
    p = _count(record, "prompt_tokens") or 0
    c = _count(record, "completion_tokens") or 0
    cr = _count(record, "cache_read_input_tokens")
    cw = _count(record, "cache_creation_input_tokens")
    cw_1h = _count(record, "cache_creation_1h_input_tokens")
    prompt_details: dict[str, Any] = {}
    if cr is not None:
        prompt_details["cached_tokens"] = cr
    if cw is not None:
        prompt_details["cache_write_tokens"] = cw
    if cw_1h is not None:
        prompt_details["cache_creation_token_details"] = {
            "ephemeral_1h_input_tokens": cw_1h,
            "ephemeral_5m_input_tokens": max((cw or 0) - cw_1h, 0),
        }
    if (audio_in := _count(record, "audio_input_tokens")) is not None:
        prompt_details["audio_tokens"] = audio_in
    if (image_in := _count(record, "image_input_tokens")) is not None:
        prompt_details["image_tokens"] = image_in
    cached_details = {
        key: value
        for key, field in (("audio_tokens", "cache_read_audio_tokens"), ("image_tokens", "cache_read_image_tokens"))
        if (value := _count(record, field)) is not None
    }
    if cached_details:
        prompt_details["cached_tokens_details"] = cached_details
    if (searches := _count(record, "search_queries")) is not None:
        prompt_details["web_search_requests"] = searches
    completion_details: dict[str, Any] = {}
    if (reasoning := _count(record, "reasoning_tokens")) is not None:
        completion_details["reasoning_tokens"] = reasoning
    if (audio_out := _count(record, "audio_output_tokens")) is not None:
        completion_details["audio_tokens"] = audio_out
    if (image_out := _count(record, "image_output_tokens")) is not None:
        completion_details["image_tokens"] = image_out
    if (video_out := _count(record, "video_output_tokens")) is not None:
        completion_details["video_tokens"] = video_out
    extra: dict[str, Any] = {}
    if (citations := _count(record, "citation_tokens")) is not None:
        extra["citation_tokens"] = citations
    for key in ("inference_geo", "speed"):
        if record.get(key) is not None:
            extra[key] = record[key]
    if (server_searches := _count(record, "web_search_requests")) is not None:
        extra["server_tool_use"] = {"web_search_requests": server_searches}
    return Usage(
        prompt_tokens=p,
        completion_tokens=c,
        total_tokens=p + c,
        prompt_tokens_details=prompt_details or None,
        completion_tokens_details=completion_details or None,
        **extra,
    )


def _anthropic_usage_dict(record: dict) -> dict[str, Any]:
    p = _count(record, "prompt_tokens") or 0
    cr = _count(record, "cache_read_input_tokens") or 0
    cw = _count(record, "cache_creation_input_tokens") or 0
    out: dict[str, Any] = {
        "input_tokens": max(p - cr - cw, 0),
        "output_tokens": _count(record, "completion_tokens") or 0,
        "cache_read_input_tokens": cr,
        "cache_creation_input_tokens": cw,
    }
    cw_1h = _count(record, "cache_creation_1h_input_tokens")
    if cw_1h is not None:
        out["cache_creation"] = {
            "ephemeral_1h_input_tokens": cw_1h,
            "ephemeral_5m_input_tokens": max(cw - cw_1h, 0),
        }
    return out


def _duration_ms(record: dict) -> float:
    if record.get("duration_s") is not None:
        return float(record["duration_s"]) * 1000.0
    if record.get("response_time_ms") is not None:
        return float(record["response_time_ms"])
    return 0.0


def _billing_moment(record: dict) -> datetime | None:
    """``timestamp`` (epoch seconds or ISO 8601; naive = UTC) as an aware datetime, else None (unparsable too)."""
    ts = record.get("timestamp")
    try:
        if isinstance(ts, (int, float)) and not isinstance(ts, bool):
            return datetime.fromtimestamp(float(ts), timezone.utc)
        if isinstance(ts, str) and ts.strip():
            moment = datetime.fromisoformat(ts.strip().replace("Z", "+00:00").replace("z", "+00:00"))
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _pinned(record: dict):
    moment = _billing_moment(record)
    return pinned_billing_time(moment) if moment is not None else contextlib.nullcontext()


def _request_kwargs(record: dict) -> dict[str, Any]:
    kwargs = {k: record[k] for k in PRICE_FIELDS if record.get(k) is not None}
    if record.get("service_tier") is not None:
        kwargs["service_tier"] = record["service_tier"]
    return kwargs


# ----------------------------------------------------------------------------------------------------------------
# the oracle
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class OraclePrice:
    #: what the proxy books (standard_logging_object["response_cost"]); None = LiteLLM failed
    cost: float | None
    path: str  #: "router", "sdk" or "batch"
    called_model: str | None = None  #: the `model` sent to Router/SDK (alias, deployment id, or bare model)
    deployment_id: str | None = None  #: model_info.id of the deployment that served it (router path)
    hidden_cost: float | None = None  #: response._hidden_params["response_cost"]
    error: str | None = None  #: exception text when LiteLLM raised / returned no cost
    mismatch: bool = False  #: standard_logging_object and hidden params disagreed
    #: raw standard_logging_object["response_cost"] (0.0 even when pricing failed)
    slo_cost: float | None = None


_ACTIVE: ProxyOracle | None = None
_ACTIVE_LOCK = threading.RLock()


class ProxyOracle:
    """A LiteLLM proxy for one config: one Router, reused for every record priced through it."""

    def __init__(self, model_list: list[dict] | None, litellm_settings: dict | None = None,
                 router_settings: dict | None = None) -> None:
        self.model_list = copy.deepcopy(model_list) if model_list else None
        self.litellm_settings = copy.deepcopy(litellm_settings) if litellm_settings else {}
        # only model_group_alias is passed on: the one router setting that changes which deployment prices a call
        self.model_group_alias = copy.deepcopy((router_settings or {}).get("model_group_alias") or {})
        self.router: litellm.Router | None = None
        self._groups: dict[str, list[tuple[str | None, dict]]] = {}
        self._deployments: list[dict] = []
        self._activate()

    # -- config activation ---------------------------------------------------------------------------------------

    def _activate(self) -> None:
        global _ACTIVE
        if _ACTIVE is self:
            return
        _ACTIVE = None
        _reset_litellm_state()
        _install_hooks()
        for key in ("cost_discount_config", "cost_margin_config"):
            if key in self.litellm_settings:
                setattr(litellm, key, copy.deepcopy(self.litellm_settings[key]))
        if "drop_params" in self.litellm_settings:
            from litellm.litellm_core_utils.core_helpers import drop_params_flag

            litellm.drop_params = drop_params_flag(
                self.litellm_settings["drop_params"],
                "litellm_settings.drop_params",
                logging.getLogger("LiteLLM"),
            )
        self.router = None
        self._groups = {}
        self._deployments = []
        if self.model_list:
            self.router = litellm.Router(
                model_list=copy.deepcopy(self.model_list), num_retries=0, disable_cooldowns=True,
                model_group_alias=copy.deepcopy(self.model_group_alias),
            )
            self._deployments = list(self.router.registry().deployments(source="group") or [])
            for dep in self._deployments:
                dep_id = (dep.get("model_info") or {}).get("id")
                self._groups.setdefault(dep.get("model_name"), []).append((dep_id, dep))
        _ACTIVE = self

    # -- pricing --------------------------------------------------------------------------------------------------

    def cost(self, record: dict) -> float | None:
        return self.price(record).cost

    def price(self, record: dict) -> OraclePrice:
        with _ACTIVE_LOCK:
            self._activate()
            if record.get("batch"):
                return self._price_batch(record)
            return _run(self._price_call(record))

    def _select(self, record: dict) -> tuple[str, dict | None]:
        """The `model` to send to the Router, and the deployment expected to serve it (None: SDK path).

        Mirrors what the Router does, made deterministic where it would load-balance at random:
        1. a config ``model_name`` (group): ``model_id`` picks the deployment, else the first in config order;
        2. a wildcard route (``openai/*``, ``*``) matching the model -- the Router prefers these to 3.;
        3. deployments whose ``litellm_params.model`` equals the model (the Router load-balances over them);
        4. none: the SDK path.
        A specific deployment of several is sent as its ``model_info.id``.
        """
        model = record["model"]
        if self.router is None:
            return model, None
        if model in self.model_group_alias:
            # the Router rewrites an alias itself (before matching model_names); sent as called
            entry = self.model_group_alias[model]
            target = entry.get("model") if isinstance(entry, dict) else entry
            group = self._groups.get(target) or []
            return model, (group[0][1] if group else None)
        group = self._groups.get(model)
        if group:
            wanted = record.get("model_id")
            chosen = next(
                ((i, d) for i, d in group if wanted is not None and i is not None and str(i) == str(wanted)),
                group[0],
            )
            dep_id, dep = chosen
            return (model if len(group) == 1 or dep_id is None else str(dep_id)), dep
        wildcard = list(self.router.registry().deployments(model, source="wildcard") or [])
        if wildcard:
            return model, wildcard[0]
        same_model = [d for d in self._deployments if d["litellm_params"].get("model") == model]
        if same_model:
            dep_id = (same_model[0].get("model_info") or {}).get("id")
            return (model if len(same_model) == 1 or dep_id is None else str(dep_id)), same_model[0]
        return model, None

    async def _price_call(self, record: dict) -> OraclePrice:
        try:
            usage = build_usage(record)
        except Exception as exc:
            return OraclePrice(cost=None, path="none", error=f"bad record: {exc}")
        kwargs = _request_kwargs(record)
        if self.router is not None:
            called, _ = self._select(record)
            result = await self._call(self.router.acompletion, called, usage, record, kwargs, path="router")
            if result.error is None or not any(m in result.error for m in _NO_DEPLOYMENT_MARKERS) \
                    or record["model"] in self.model_group_alias:  # the proxy fails an alias it cannot serve
                return result
        return await self._call(litellm.acompletion, record["model"], usage, record, kwargs, path="sdk")

    async def _call(self, fn, model: str, usage: Usage, record: dict, kwargs: dict, path: str) -> OraclePrice:
        call_id = str(uuid.uuid4())
        mock = ModelResponse(usage=copy.deepcopy(usage))
        _OWN_RESPONSES[id(mock)] = mock
        _FORCED_RESPONSE_MS[call_id] = _duration_ms(record)
        waiter = asyncio.get_running_loop().create_future()
        _CAPTURE.waiters[call_id] = waiter
        try:
            try:
                with _pinned(record):
                    response = await fn(
                        model=model, messages=_MESSAGES, mock_response=mock, litellm_call_id=call_id, **kwargs
                    )
            except Exception as exc:
                return OraclePrice(
                    cost=None, path=path, called_model=model, error=f"{type(exc).__name__}: {exc}"
                )
            hidden = dict(getattr(response, "_hidden_params", None) or {})
            hidden_cost = hidden.get("response_cost")
            try:
                slo = await asyncio.wait_for(waiter, _CALLBACK_TIMEOUT_S)
            except asyncio.TimeoutError:
                return OraclePrice(
                    cost=hidden_cost,
                    path=path,
                    called_model=model,
                    deployment_id=hidden.get("model_id"),
                    hidden_cost=hidden_cost,
                    error="standard_logging_object never arrived; booked value taken from hidden params",
                )
            booked = slo.get("response_cost")
            failure = slo.get("response_cost_failure_debug_info")
            if failure is not None or hidden_cost is None:
                # completion_cost raised; Logging swallowed it (hidden cost None) and the standard_logging_object
                # records 0.0 plus response_cost_failure_debug_info. "None when LiteLLM raises".
                error = (failure or {}).get("error_str") or "cost calculation returned no cost"
                return OraclePrice(
                    cost=None,
                    path=path,
                    called_model=model,
                    deployment_id=hidden.get("model_id"),
                    hidden_cost=hidden_cost,
                    error=error,
                    slo_cost=booked,
                )
            return OraclePrice(
                cost=booked,
                path=path,
                called_model=model,
                deployment_id=hidden.get("model_id"),
                hidden_cost=hidden_cost,
                mismatch=booked != hidden_cost,
                slo_cost=booked,
            )
        finally:
            _CAPTURE.waiters.pop(call_id, None)
            _FORCED_RESPONSE_MS.pop(call_id, None)
            _OWN_RESPONSES.pop(id(mock), None)

    # -- batch ----------------------------------------------------------------------------------------------------

    def _batch_target(self, record: dict) -> tuple[str, str | None, dict | None]:
        """(model_name, deployment id, litellm_params) the batch is priced under."""
        _, dep = self._select(record)
        if dep is None:
            return record["model"], None, None
        params = dep.get("litellm_params") or {}
        return params.get("model") or record["model"], (dep.get("model_info") or {}).get("id"), params

    def _price_batch(self, record: dict) -> OraclePrice:
        from litellm.batches.batch_utils import batch_cost_and_usage
        from litellm.litellm_core_utils.litellm_logging import deployment_pricing_model_info

        try:
            model_name, dep_id, params = self._batch_target(record)
            backend, provider, _, _ = litellm.get_llm_provider(
                model=model_name, custom_llm_provider=(params or {}).get("custom_llm_provider")
            )
            model_info = (
                deployment_pricing_model_info(model_id=str(dep_id), deployment_model=model_name)
                if dep_id is not None
                else None
            )
            if provider in ("anthropic", "bedrock"):
                usage_body: dict[str, Any] = _anthropic_usage_dict(record)
            else:
                usage_body = build_usage(record).model_dump(exclude_none=True)
            body = {"model": backend, "usage": usage_body}
            if provider == "anthropic":  # Message Batches results line
                line = {"custom_id": "costcalc-oracle", "result": {"type": "succeeded", "message": body}}
            elif provider == "bedrock":  # batch inference output line
                line = {"recordId": "costcalc-oracle", "modelOutput": body}
            else:  # OpenAI Batch API output line (openai, azure, and every other provider)
                line = {"custom_id": "costcalc-oracle", "response": {"status_code": 200, "body": body}}
            if model_info is None:
                # batch_cost_calculator swallows get_model_info's ModelNotMappedError and books 0.0; surface it as
                # "LiteLLM raised" like the chat path does.  (_output_line_cost prices `body.model or model_name`.)
                litellm.get_model_info(model=backend, custom_llm_provider=provider)
            with _pinned(record):
                result = batch_cost_and_usage([line], provider, model_name, model_info)
        except Exception as exc:
            return OraclePrice(cost=None, path="batch", called_model=record.get("model"), error=repr(exc))
        if (
            len(getattr(result.usage, "batch_usage_by_request", None) or ()) != 1
        ):  # line failed or was uncostable
            return OraclePrice(
                cost=None, path="batch", called_model=model_name, error="batch line not costed"
            )
        return OraclePrice(cost=result.cost, path="batch", called_model=model_name, deployment_id=dep_id)


def litellm_cost(
    model_list: list[dict] | None, record: dict, litellm_settings: dict | None = None
) -> float | None:
    """What a LiteLLM proxy running `model_list` (a config.yaml model_list, as parsed dicts) would book as
    response_cost for `record`; None when LiteLLM raises (unmapped model etc.)."""
    try:
        oracle = ProxyOracle(model_list, litellm_settings)
    except Exception:
        return None
    return oracle.cost(record)
