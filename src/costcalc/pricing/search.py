"""Search API calls (``search`` / ``asearch``, the proxy's ``/v1/search/{tool}``) priced as LiteLLM 1.110.2's
``completion_cost`` books them: the search tool's configured ``input_cost_per_query`` when its ``litellm_params``
set one, else ``search_provider_cost_per_query`` on the ``<provider>/search`` cost-map row (Tavily and Linkup:
the ``search-<mode>`` row of the requested ``search_depth`` / ``depth``; Exa AI and Firecrawl: the tier of the
requested ``max_results``, 10 by default), × one query (the proxy counts queries from ``optional_params.query``,
which the search call never puts there). Parallel AI prices by its own usage and stays unpriced.
"""

from __future__ import annotations

from typing import Any

from .calltypes import CallPrice

SEARCH_CALLS = frozenset({"search", "asearch"})
_MODE_PARAM = {"tavily": "search_depth", "linkup": "depth"}  # search/cost_calculator.py's mode parameters
_DEFAULT_MAX_RESULTS = 10


def search_model(model: str, provider: str | None) -> str:
    """The name LiteLLM prices a search call under: ``<provider>/search`` for a model logged without a provider."""
    return f"{provider}/search" if provider and "/" not in model else model


def search_price(model: str, provider: str | None, configured: tuple[str, float] | None, max_results: int | None,
                 modes: dict[str, str], request_logged: bool, cost_map: Any) -> CallPrice | str:
    """One search call's price: ``configured`` (tool name, its input_cost_per_query) first, else the cost map's."""
    if configured is not None:
        name, rate = configured
        return CallPrice(rate, 1, False, f"input_cost_per_query of search tool {name}", None)
    if provider == "parallel_ai":
        return "Parallel AI search is priced by the usage its response reports, which costcalc does not reproduce yet"
    name = search_model(model, provider)
    approximate = None
    mode_param = _MODE_PARAM.get(provider or "")
    if mode_param is not None and name in (f"{provider}/search", f"{provider}/{provider}/search"):
        mode = modes.get(mode_param)
        if mode is not None and f"{provider}/search-{mode}" in cost_map:
            name = f"{provider}/search-{mode}"
        elif mode is None and not request_logged:
            approximate = (f"the log does not carry the request's {mode_param} (the request body, stored only with "
                           f"store_prompts_in_spend_logs); priced at the {name} row (no {mode_param} requested)")
    key = next((k for k in (name, f"{provider}/{name}" if provider else None) if k and k in cost_map), None)
    if key is None:
        return f"no cost-map row {name!r} prices this search provider's queries (LiteLLM books nothing)"
    entry = cost_map.entry(key)
    tiers = entry.get("tiered_pricing")
    if isinstance(tiers, list) and tiers:
        wanted = max_results if max_results is not None else _DEFAULT_MAX_RESULTS
        tier = next((t for t in tiers if t["max_results_range"][0] <= wanted <= t["max_results_range"][1]),
                    tiers[-1])
        if max_results is None and not request_logged:
            approximate = (f"the log does not carry the request's max_results (the request body, stored only with "
                           f"store_prompts_in_spend_logs); priced at LiteLLM's default of {_DEFAULT_MAX_RESULTS}")
        low, high = tier["max_results_range"]
        return CallPrice(float(tier["input_cost_per_query"]), 1, False,
                         f"input_cost_per_query of {key} (max_results {low}-{high})", approximate)
    return CallPrice(float(entry.get("input_cost_per_query") or 0.0), 1, False, f"input_cost_per_query of {key}",
                     approximate)
