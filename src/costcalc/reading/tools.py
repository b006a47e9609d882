"""What a LiteLLM log shows of a call's built-in tools (web search, file search): ``tool_use`` reads a spend-log
row or a standard logging payload the way LiteLLM's ``StandardBuiltInToolCostTracking`` reads the response and
the request (litellm_core_utils/llm_cost_calc/tool_call_cost_tracking.py).

Where it looks: the usage object (``metadata.usage_object``: ``server_tool_use.web_search_requests``,
``prompt_tokens_details.web_search_requests``, xAI's ``server_side_tool_usage_details.web_search_calls``); the
response (a payload's ``response``; a row's only with ``store_prompts_in_spend_logs``): chat ``url_citation`` /
``file_citation`` annotations, Responses API ``web_search_call`` / ``file_search_call`` output items, Anthropic's
raw ``usage.server_tool_use``; the request's tools (a payload's ``standard_built_in_tools_params``, a row's stored
``proxy_server_request``). When the proxy booked a tool charge (``cost_breakdown.tool_usage_cost``) the log
shows no cause for, the call is priced as one medium-context web search and marked approximate.
"""

from __future__ import annotations

from typing import Any

import orjson

from .records import ToolUse

MAPS_GROUNDING = ("Google Maps grounding (prompt_tokens_details.google_maps_grounding_requests): the proxy adds "
                  "google_maps_grounding_cost_per_query for it, which costcalc does not reproduce yet; priced "
                  "without it")
IMAGE_TOOL = ("the Responses API image_generation tool: the proxy adds the generated images' price "
              "(_handle_image_generation_cost), which costcalc does not reproduce yet; priced without it")
UNSEEN_TOOL = ("the proxy booked a built-in tool charge (cost_breakdown.tool_usage_cost) for a search the log does "
               "not show (the response and the request's tools are stored only with store_prompts_in_spend_logs); "
               "priced as one web search at the medium search context (LiteLLM's defaults)")


def logged_object(obj: dict[str, Any], key: str) -> dict[str, Any]:
    """A logged object the proxy may leave out or write as text (a spend-log row keeps ``response`` and
    ``proxy_server_request`` as JSON text, and "{}" unless prompts are stored); anything else counts as absent."""
    value = obj.get(key)
    if isinstance(value, str) and value[:1] == "{":
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {}
    return value if isinstance(value, dict) else {}


def _count(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _annotations(response: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    choices = response.get("choices")
    for choice in choices if isinstance(choices, list) else ():
        message = choice.get("message") if isinstance(choice, dict) else None
        notes = message.get("annotations") if isinstance(message, dict) else None
        for note in notes if isinstance(notes, list) else ():
            if isinstance(note, dict) and isinstance(note.get("type"), str):
                found.add(note["type"])
    return found


def _context_size(params: dict[str, Any], request: dict[str, Any]) -> tuple[str | None, bool]:
    """The search context size the request asked for, and whether it declared the file_search tool
    (``get_web_search_options`` / ``get_file_search_tool_call``)."""
    options = params.get("web_search_options") or request.get("web_search_options")
    size = options.get("search_context_size") if isinstance(options, dict) else None
    declared_file_search = isinstance(params.get("file_search"), dict)
    tools = request.get("tools")
    for tool in tools if isinstance(tools, list) else ():
        if not isinstance(tool, dict):
            continue
        if size is None and (tool.get("type") in ("web_search", "web_search_preview") or "search_context_size" in tool):
            size = tool.get("search_context_size")
        declared_file_search = declared_file_search or tool.get("type") == "file_search"
    return (size if isinstance(size, str) else None), declared_file_search


def _kinds(item: dict[str, Any]) -> set[str]:
    chunks = item.get("groundingChunks")
    if not isinstance(chunks, list):
        return set()
    return {kind for chunk in chunks if isinstance(chunk, dict) for kind in chunk}


def gemini_grounding(obj: dict[str, Any]) -> tuple[ToolUse | None, str | None]:
    """A Gemini / Vertex response body's grounding, as LiteLLM counts it (``calculate_grounding_requests``): the
    distinct web search queries of its candidates' ``groundingMetadata`` (an item with Maps chunks and no web
    chunks counts as Maps grounding), and whether Maps grounding ran (approximate: not priced)."""
    candidates = obj.get("candidates")
    items = [c.get("groundingMetadata") for c in candidates if isinstance(c, dict)] if isinstance(candidates, list) \
        else []
    items = [item for item in items if isinstance(item, dict)]
    queries: set[str] = set()
    maps = False
    for item in items:
        kinds = _kinds(item)
        is_maps = "maps" in kinds or bool(item.get("googleMapsWidgetContextToken"))
        maps = maps or is_maps
        if is_maps and "web" not in kinds:
            continue
        found = item.get("webSearchQueries")
        if isinstance(found, list):
            queries.update(q for q in found if isinstance(q, str) and q)
    use = ToolUse(searched=True, grounding_requests=len(queries)) if queries else None
    return use, (MAPS_GROUNDING if maps else None)


def _booked_tool_charge(obj: dict[str, Any], metadata: Any) -> bool:
    """Whether the proxy booked a built-in tool charge (``cost_breakdown.tool_usage_cost``: a row's metadata, a
    payload's top level)."""
    for holder in (metadata, obj):
        found = holder.get("cost_breakdown") if isinstance(holder, dict) else None
        if isinstance(found, dict):
            booked = found.get("tool_usage_cost")
            return isinstance(booked, (int, float)) and not isinstance(booked, bool) and booked > 0
    return False


def tool_use(obj: dict[str, Any], details: dict[str, Any], metadata: Any) -> tuple[ToolUse | None, str | None]:
    """The built-in tools a logged call used, and why its charge is approximate (None: exact). A row's stored
    bodies (JSON text) are parsed only when the proxy booked a tool charge for it: most rows pay for none."""
    booked_tool = _booked_tool_charge(obj, metadata)
    response = obj.get("response")
    prompt_details = details.get("prompt_tokens_details")
    if response.__class__ is not dict or not response:
        if not booked_tool and details.get("server_tool_use") is None \
                and details.get("server_side_tool_usage_details") is None and (
                    prompt_details.__class__ is not dict or (
                        prompt_details.get("web_search_requests") is None
                        and prompt_details.get("google_maps_grounding_requests") is None)):
            return None, None  # the common row: no response read, and a usage object without tool counts
        response = logged_object(obj, "response") if booked_tool else {}
    server = details.get("server_tool_use")
    server_requests = _count(server.get("web_search_requests")) if isinstance(server, dict) else None
    raw_usage = response.get("usage") if isinstance(response.get("usage"), dict) else {}
    raw_server = raw_usage.get("server_tool_use")
    if server_requests is None and isinstance(raw_server, dict) and response.get("type") == "message":
        server_requests = _count(raw_server.get("web_search_requests"))  # an Anthropic /v1/messages body
    grounding = _count(prompt_details.get("web_search_requests")) if isinstance(prompt_details, dict) else None
    xai = details.get("server_side_tool_usage_details")
    xai_calls = (_count(xai.get("web_search_calls")) or 0) if isinstance(xai, dict) else 0
    output = response.get("output") if isinstance(response.get("output"), list) else []
    responses_api = response.get("object") == "response"
    kinds = [item.get("type") for item in output if isinstance(item, dict)] if responses_api else []
    tool_usage = response.get("tool_usage") or raw_usage.get("tool_usage")
    reported = tool_usage.get("web_search") if isinstance(tool_usage, dict) else None
    reported_calls = _count(reported.get("num_requests")) if isinstance(reported, dict) else None
    notes = _annotations(response)
    searched = (server_requests is not None or grounding is not None or xai_calls > 0 or "url_citation" in notes
                or "web_search_call" in kinds or bool(reported_calls))
    used_file_search = "file_citation" in notes or "file_search_call" in kinds
    size, declared_file_search = None, False
    if searched or used_file_search or booked_tool:
        request = logged_object(obj, "proxy_server_request")
        request = request.get("body") if isinstance(request.get("body"), dict) else request
        size, declared_file_search = _context_size(logged_object(obj, "standard_built_in_tools_params"), request)
    file_search = declared_file_search and used_file_search
    maps = _count(prompt_details.get("google_maps_grounding_requests")) if isinstance(prompt_details, dict) else None
    approximate = MAPS_GROUNDING if maps else None
    tools = response.get("tools") if isinstance(response.get("tools"), list) else []
    if any(isinstance(item, dict) and item.get("type") == "image_generation_call" and item.get("status") == "completed"
           for item in output) and any(isinstance(t, dict) and t.get("type") == "image_generation" and t.get("model")
                                       for t in tools):
        approximate = IMAGE_TOOL
    if not (searched or file_search):
        if booked_tool and not response and approximate is None:
            return ToolUse(searched=True, context_size=size), UNSEEN_TOOL
        return None, approximate
    return ToolUse(searched=searched, server_tool_requests=server_requests, grounding_requests=grounding or 0,
                   xai_calls=xai_calls, provider_cost=details.get("cost") is not None, responses_api=responses_api,
                   search_calls=reported_calls if reported_calls is not None else kinds.count("web_search_call"),
                   context_size=size, file_search=file_search), approximate
