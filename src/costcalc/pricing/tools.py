"""Built-in tool charges and video calls, as LiteLLM 1.110.2 books them.

Tools: ``completion_cost`` adds ``StandardBuiltInToolCostTracking.get_cost_for_built_in_tools`` to a token-priced
call's cost before its discount and margin (litellm_core_utils/llm_cost_calc/tool_call_cost_tracking.py): a web
search charge when the response shows a search, else a file search charge when the request declared the
``file_search`` tool and the response used it. ``tool_charge`` is that rule on what a log carries
(``reading.records.ToolUse``). Code interpreter, computer use and vector-store storage are priced there only from
``standard_built_in_tools_params`` keys the proxy never fills (``Logging.initialize_standard_built_in_tools_params``
sets ``web_search_options`` and ``file_search`` only), so the proxy books them $0.

Video: ``create_video``/``video_edit``/``video_remix`` return ``video_generation_cost`` × the videos, plus the
billable input images, with no discount or margin (the branch returns before that step).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .calltypes import CallPrice

VIDEO_CALLS = frozenset({"create_video", "acreate_video", "video_edit", "avideo_edit", "video_remix",
                         "avideo_remix"})
# litellm.constants.OPENAI_FILE_SEARCH_COST_PER_1K_CALLS: $2.50 per 1,000 calls, booked as one call's price for
# a response that used the tool (get_model_info passes no file_search_cost_per_1k_calls on, so the constant rules)
OPENAI_FILE_SEARCH_PER_CALL = 2.5 / 1000
_GEMINI_DEFAULT_PER_SEARCH = 35e-3  # llms/gemini/cost_calculator.py cost_per_web_search_request's fallback
_XAI_DEFAULT_PER_CALL = 5.0 / 1000.0  # llms/xai/cost_calculator.py _DEFAULT_WEB_SEARCH_COST_PER_CALL
_CONTEXT = "search_context_cost_per_query"


class ToolCharge(NamedTuple):
    """One tool charge of a call: ``count`` × ``rate`` (the exact-money slot ``search_queries``)."""

    part: str  # "web search" or "file search"
    count: int
    rate: float
    key: str  # the price and where it came from, for --explain


def _context(rates: dict[str, Any]) -> dict[str, Any]:
    found = rates.get(_CONTEXT)
    return found if isinstance(found, dict) else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def web_search_charge(provider: str, model_key: str, rates: dict[str, Any], use: Any) -> ToolCharge | None:
    """The web search charge of a call whose log shows a search (``use.searched``), by the provider's own
    calculator (``litellm.llms.get_cost_for_web_search_request``), else the per-call price of the search context
    size the request asked for (medium by default) × the searches the usage reports, else those the Responses
    API output lists, else one (``_handle_web_search_cost``)."""
    ctx = _context(rates)
    if provider == "perplexity":
        return None  # priced inside Perplexity's own cost function (search queries at their rate)
    claude = "claude" in model_key.lower()
    if provider == "gemini" or (provider.startswith("vertex_ai") and not claude):
        count = use.grounding_requests or use.server_tool_requests or 0
        if rates.get("web_search_billing_unit", "per_prompt") != "per_query":
            count = min(count, 1)  # per grounded prompt, however many queries ran (Gemini 2.x)
        rate = _number(ctx.get("search_context_size_medium", _GEMINI_DEFAULT_PER_SEARCH)) or 0.0
        key = f"{_CONTEXT}.search_context_size_medium" if "search_context_size_medium" in ctx else \
            "Gemini's default $0.035 per grounded request"
        return ToolCharge("web search", count, rate, key) if count else None
    if provider in ("anthropic", "groq") or (provider.startswith("vertex_ai") and claude) or (
            provider == "azure_ai" and (claude or use.server_tool_requests is not None)):
        rate = _number(ctx.get("search_context_size_medium")) or 0.0
        count = use.server_tool_requests or 0
        return ToolCharge("web search", count, rate, f"{_CONTEXT}.search_context_size_medium") \
            if count and rate else None
    if provider == "xai":
        if use.provider_cost or not use.xai_calls:
            return None  # xAI's own reported cost already holds it
        for size in ("medium", "low", "high"):
            rate = _number(ctx.get(f"search_context_size_{size}"))
            if rate is not None:
                return ToolCharge("web search", use.xai_calls, rate, f"{_CONTEXT}.search_context_size_{size}")
        return ToolCharge("web search", use.xai_calls, _XAI_DEFAULT_PER_CALL, "xAI's default $5 per 1,000 calls")
    size = use.context_size if use.context_size in ("low", "medium", "high") else "medium"
    rate = _number(ctx.get(f"search_context_size_{size}")) or 0.0
    if use.server_tool_requests:
        count = use.server_tool_requests
    else:
        count = max(use.search_calls, 1) if use.responses_api else 1
    return ToolCharge("web search", count, rate, f"{_CONTEXT}.search_context_size_{size}") if rate else None


def tool_charge(provider: str | None, model_key: str, rates: dict[str, Any], use: Any) -> ToolCharge | None:
    """What LiteLLM adds for built-in tools to a call priced with ``rates``: the web search charge when the log
    shows a search, else the file search charge (one call's price per response that used the declared tool:
    the OpenAI constant; Azure prices file search by storage the proxy never logs, so $0)."""
    if use is None:
        return None
    provider = provider or ""
    if use.searched:
        return web_search_charge(provider, model_key, rates, use)
    if use.file_search and provider != "azure":
        return ToolCharge("file search", 1, OPENAI_FILE_SEARCH_PER_CALL,
                          "OPENAI_FILE_SEARCH_COST_PER_1K_CALLS ($2.50 per 1,000 calls, booked per response)")
    return None


def video_price(rates: dict[str, Any], seconds: float | None, videos: int | None, resolution: str | None,
                input_images: int, reported_cost: float | None = None, custom_pricing: bool = False,
                response_logged: bool = True, model_rates: dict[str, Any] | None = None) -> CallPrice | str:
    """A video call as ``completion_cost``'s video branch prices it from the response's usage: the cost the
    provider reported (``provider_reported_cost_usd``: RunwayML, Eden AI) when the deployment sets no prices of its
    own; else ``output_cost_per_video_per_second``, else ``output_cost_per_second_<resolution>``, else
    ``output_cost_per_second``, × ``duration_seconds`` × ``video_count`` (1 unless more), plus
    ``billable_input_image_count`` × ``input_cost_per_image`` (``_video_input_image_cost``: the deployment's price,
    else the model's; MiniMax counts the images past its free allowance); no price, or no duration, books $0
    (``default_video_cost_calculator`` with 0 seconds). ``rates`` is the deployment's card (its prices over the
    map's), as ``_deployment_model_info`` and ``get_model_info`` give them: for a deployment with prices of its own
    (``custom_pricing``) the entry the Router registered under its id, without the map's other prices (a MiniMax
    deployment that sets only ``input_cost_per_image`` books its seconds at $0), its per-image price else the
    model's (``model_rates``)."""
    if reported_cost is not None and not custom_pricing:
        return CallPrice(reported_cost, 1, False, "the provider's reported cost (usage.provider_reported_cost_usd)",
                         None)
    field = "output_cost_per_video_per_second"
    if rates.get(field) is None:
        suffix = "".join(c for c in (resolution or "").strip().lower() if c.isalnum() or c == "_")
        suffix = suffix if len(suffix) <= 24 else ""
        candidates = ([f"output_cost_per_second_{suffix}"] if suffix else []) + ["output_cost_per_second"]
        field = next((f for f in candidates if rates.get(f) is not None), "")
    if seconds is None:
        missing = None if response_logged else (
            "the log does not carry the video's duration (response usage.duration_seconds); the proxy books it from "
            "the response, costcalc prices 0 seconds")
        return CallPrice(float(rates[field]) if field else 0.0, 0.0, True, field or
                         "output_cost_per_video_per_second (unset: the proxy books $0)", missing)
    count = videos if videos and videos > 1 else 1
    image_rate = _number(rates.get("input_cost_per_image")) if input_images else None
    if input_images and image_rate is None and model_rates is not None:
        image_rate = _number(model_rates.get("input_cost_per_image"))
    if not field:
        if not image_rate:
            return CallPrice(0.0, 0, True, "output_cost_per_video_per_second (unset: the proxy books $0)", None)
        return CallPrice(image_rate, input_images, False, "input_cost_per_image (billable input images)", None)
    if not image_rate:
        return CallPrice(float(rates[field]), seconds * count, True, field, None)
    # seconds and input images in one call: booked as one charge of LiteLLM's own sum
    total = float(rates[field]) * seconds * count + input_images * image_rate
    return CallPrice(total, 1, False, f"{field} × {seconds:g} s × {count} + input_cost_per_image × {input_images} "
                     "billable input images", None)
