"""Image calls (generation, edits, variations) priced as LiteLLM 1.110.2 routes them:
``CostCalculatorUtils.route_image_generation_cost_calculator`` (litellm_core_utils/llm_cost_calc/utils.py) picks a
calculator by the call's provider. Token-priced models are priced by the usage their response logged (the
calculators' shared ``calculate_image_response_cost_from_usage``), the rest per image, per pixel, or by size, quality
and steps; the price table is the deployment's own prices laid over the cost-map row (``resolve_image_model_info``),
except where LiteLLM's calculator reads the map alone (Bedrock). What the log lacks is named in ``approximate``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from .calltypes import CallPrice, image_price

# the token rates that let a calculator price an image call by its usage (``prices_tokens``)
IMAGE_TOKEN_RATES = ("input_cost_per_token", "output_cost_per_token", "input_cost_per_image_token",
                     "output_cost_per_image_token")
USD_TICKS_PER_DOLLAR = 10_000_000_000  # xAI reports costs in ticks of 1e-10 dollars (docs.x.ai, cost tracking)
# Tencent's TokenHub image models (llms/tencent/image_generation/transformation.py is_tokenhub_image_model); its
# other models go to default_image_cost_calculator
_TENCENT_TOKENHUB_PREFIX = "seedream-"


class TokenPrice(NamedTuple):
    """An image call the proxy prices by the tokens its response reported, with the token formula
    (pricing/formulas.py) on ``rates``; no discount or margin (the image branch returns before them)."""

    rates: dict[str, Any]
    source: str  # where the rates came from ("gpt-image-1", "gpt-image-1 + the deployment's prices")
    usage: tuple[int, int, int, int, int, int]  # prompt, image in, completion, image out, reasoning, audio out


class _Table(NamedTuple):
    rates: dict[str, Any]
    source: str


def _table(name: str, provider: str | None, deployment_prices: dict[str, Any], cost_map: Any) -> _Table | None:
    """``resolve_image_model_info``: the cost-map row LiteLLM finds for (name, provider) with the deployment's
    prices over it; the deployment's prices alone for a model the map lacks; None when neither exists (LiteLLM
    raises and the proxy books $0)."""
    match = cost_map.find(name, provider)
    base = cost_map.entry(match.key) if match is not None else None
    if base is None:
        return _Table(dict(deployment_prices), "the deployment's prices") if deployment_prices else None
    if deployment_prices:
        return _Table({**base, **deployment_prices}, f"{match.key} with the deployment's prices over it")
    return _Table(base, match.key)


def _count(images: int | None, requested: int | None) -> tuple[int, str | None]:
    if images is not None:
        return images, None
    shown = requested if requested is not None else 1
    return shown, f"the log does not carry the response's images (response.data); priced as {shown} image(s)"


def _per_image(table: _Table, field: str, images: int | None, requested: int | None, uplift: float = 1.0,
               zero_note: str = "") -> CallPrice:
    """``field`` × the images the response held (0 when the table lacks the price: the calculators read it as
    0.0)."""
    count, approx = _count(images, requested)
    rate = table.rates.get(field)
    if rate is None:
        return CallPrice(0.0, count, False, f"{field} (unset in {table.source}: the proxy books $0{zero_note})",
                         approx)
    return CallPrice(float(rate) * uplift, count, False, f"{field} of {table.source}", approx)


def _by_usage_or_image(table: _Table, usage: tuple[int, ...] | None, images: int | None, requested: int | None,
                       uplift: float = 1.0) -> CallPrice | TokenPrice:
    """Vertex AI, Gemini and Azure AI's shared rule: the response's token usage at the table's token rates when
    both exist, else ``output_cost_per_image`` × the images."""
    if usage is not None and any(table.rates.get(k) is not None for k in IMAGE_TOKEN_RATES):
        return TokenPrice(table.rates, table.source, usage)  # type: ignore[arg-type]
    return _per_image(table, "output_cost_per_image", images, requested, uplift)


def provider_image_price(call_type: str, model: str, provider: str | None, deployment_prices: dict[str, Any],
                         cost_map: Any, units: Any, uplift: float = 1.0) -> CallPrice | TokenPrice | str:
    """An image call priced by the calculator LiteLLM routes ``provider`` to; ``uplift``: the Vertex regional
    endpoint multiplier of the deployment's location."""
    name = model.split("/", 1)[1] if provider and model.startswith(f"{provider}/") else model
    images, requested, usage = units.images, units.requested_images, units.image_usage
    if provider == "dashscope" and not _dashscope_default(deployment_prices):
        return _dashscope(name, deployment_prices, cost_map, units)
    if provider == "tencent" and name.startswith(_TENCENT_TOKENHUB_PREFIX):
        return _tencent(name, deployment_prices, cost_map, units)
    if provider == "xai":
        found = _xai(call_type, name, deployment_prices, cost_map, units)
        if found is not None:
            return found
    if provider == "bedrock":
        return _bedrock(name, cost_map, units)
    if provider == "fal_ai":
        return _fal(name, deployment_prices, cost_map, units)
    table = _table(name, provider, deployment_prices, cost_map)
    if provider in ("recraft", "aiml", "cometapi", "runwayml", "vertex_ai", "gemini", "azure_ai") and table is None:
        return (f"image call to {provider}/{name}: neither the cost map nor the deployment prices it (LiteLLM raises "
                "and the proxy books $0)")
    if provider in ("recraft", "aiml", "cometapi", "runwayml"):
        return _per_image(table, "output_cost_per_image", images, requested)  # type: ignore[arg-type]
    if provider in ("vertex_ai", "gemini"):
        return _by_usage_or_image(table, usage, images, requested,  # type: ignore[arg-type]
                                  uplift if provider == "vertex_ai" else 1.0)
    if provider == "azure_ai":
        return _azure_ai(table, deployment_prices, cost_map, name, units)  # type: ignore[arg-type]
    if provider in ("openai", "azure") and "gpt-image" in model.lower():
        return _gpt_image(name, provider, deployment_prices, cost_map, units)
    return image_price(model, provider, deployment_prices, cost_map, images, requested, units.size, units.quality)


def _gpt_image(name: str, provider: str, deployment_prices: dict[str, Any], cost_map: Any,
               units: Any) -> CallPrice | TokenPrice | str:
    """llms/openai/image_generation/cost_calculator.py: the response's usage at the model's token rates (the
    deployment's prices over the map row when it sets any). ``completion_cost`` hands it the usage as a chat
    ``Usage`` (``_usage_from_model``), so a response with an all-zero usage is priced by ``generic_cost_per_token``
    on zero tokens: $0, whatever per-image price the deployment sets (a real proxy books $0 for it)."""
    table = _table(name, provider, deployment_prices, cost_map)
    if units.image_usage is None:
        count, approx = _count(units.images, units.requested_images)
        return CallPrice(0.0, count, False, "image tokens (a token-priced image model whose response reported no "
                         "usage: the proxy books $0)", approx)
    if table is None:
        return (f"token-priced image model {name!r} with neither a cost-map row nor deployment prices (LiteLLM "
                "raises and the proxy books $0)")
    if deployment_prices and not any(table.rates.get(k) is not None for k in IMAGE_TOKEN_RATES):
        return _per_image(table, "output_cost_per_image", units.images, units.requested_images)
    return TokenPrice(table.rates, table.source, units.image_usage)


def _tencent(name: str, deployment_prices: dict[str, Any], cost_map: Any, units: Any) -> CallPrice | TokenPrice | str:
    """llms/tencent/cost_calculator.py ``image_cost_calculator`` (TokenHub ``seedream-*`` models): a deployment's
    ``output_cost_per_token`` stands in for the ``output_cost_per_image_token`` it does not set; a deployment that
    prices per image only (``output_cost_per_image``, no token output price) books ``output_cost_per_image`` × the
    images; else the response's usage at the token rates (``calculate_image_response_cost_from_usage``) when it is
    not all zero and the table has a token rate, else ``output_cost_per_image`` × the images ($0 unset)."""
    own = dict(deployment_prices)
    if own and own.get("output_cost_per_image_token") is None and own.get("output_cost_per_token") is not None:
        own["output_cost_per_image_token"] = own["output_cost_per_token"]
    table = _table(name, "tencent", own, cost_map)
    if table is None:
        return (f"image call to tencent/{name}: neither the cost map nor the deployment prices it (LiteLLM raises "
                "and the proxy books $0)")
    per_image_only = deployment_prices.get("output_cost_per_image") is not None and all(
        deployment_prices.get(k) is None for k in ("output_cost_per_image_token", "output_cost_per_token"))
    if per_image_only:
        return _per_image(table, "output_cost_per_image", units.images, units.requested_images)
    return _by_usage_or_image(table, units.image_usage, units.images, units.requested_images)


def _dashscope_default(deployment_prices: dict[str, Any]) -> bool:
    """``_deployment_prices_images_without_an_output_price``: a DashScope deployment priced per pixel, or per input
    image without an output price, goes to default_image_cost_calculator instead of DashScope's own."""
    return "input_cost_per_pixel" in deployment_prices or (
        "input_cost_per_image" in deployment_prices and "output_cost_per_image" not in deployment_prices)


def _dashscope(name: str, deployment_prices: dict[str, Any], cost_map: Any, units: Any) -> CallPrice | str:
    """llms/dashscope/image_generation/cost_calculator.py: ``output_cost_per_image`` × the images the response
    holds, plus ``input_cost_per_image`` × the input images DashScope bills (``billable_input_image_count``, which
    its transformation keeps in the response's hidden parameters: no log carries it); no output price: LiteLLM
    raises and the proxy books $0."""
    table = _table(name, "dashscope", deployment_prices, cost_map)
    if table is None or table.rates.get("output_cost_per_image") is None:
        where = table.source if table is not None else "neither the cost map nor the deployment"
        return (f"image call to dashscope/{name}: no output_cost_per_image in {where} (LiteLLM raises and the proxy "
                "books $0)")
    found = _per_image(table, "output_cost_per_image", units.images, units.requested_images)
    if table.rates.get("input_cost_per_image"):
        note = ("DashScope bills input images at input_cost_per_image by a count its response keeps out of the log "
                "(hidden billable_input_image_count); priced for the output images only")
        found = found._replace(approximate=f"{found.approximate}; {note}" if found.approximate else note)
    return found


def _azure_ai(table: _Table, deployment_prices: dict[str, Any], cost_map: Any, name: str,
              units: Any) -> CallPrice | TokenPrice | str:
    """llms/azure_ai/image_generation/cost_calculator.py: usage tokens, else ``output_cost_per_image`` × n, else the
    per-pixel price (the deployment's, else the map row's) by default_image_cost_calculator, else $0."""
    found = _by_usage_or_image(table, units.image_usage, units.images, units.requested_images)
    if isinstance(found, TokenPrice) or found.rate:
        return found
    if deployment_prices.get("input_cost_per_pixel") or table.rates.get("input_cost_per_pixel"):
        # default_image_cost_calculator called with the row's own key as the model
        match = cost_map.find(name, "azure_ai")
        return image_price(match.key if match is not None else name, "azure_ai", deployment_prices, cost_map,
                           units.images, units.requested_images, units.size, None, by_quality=False)
    return found


def _xai(call_type: str, name: str, deployment_prices: dict[str, Any], cost_map: Any,
         units: Any) -> CallPrice | None:
    """llms/xai/image_generation/cost_calculator.py: xAI's reported cost when the response carries it and the
    deployment sets no image price; else, for a low-quality call (quality ``low``, or ``auto`` on a generation) at
    resolution 1k or 2k, the deployment's per-image price, else the row's ``output_cost_per_image_<1K|2K>``, × the
    images. None: the route goes on to default_image_cost_calculator (a per-pixel deployment price, another
    quality or resolution, or no such price)."""
    if deployment_prices.get("input_cost_per_pixel") is not None:
        return None
    image_prices = ("input_cost_per_image", "output_cost_per_image", "output_cost_per_image_1K",
                    "output_cost_per_image_2K")
    if units.reported_ticks is not None and not any(deployment_prices.get(k) is not None for k in image_prices):
        return CallPrice(units.reported_ticks / USD_TICKS_PER_DOLLAR, 1, False,
                         "xAI's reported cost (usage.cost_in_usd_ticks)", None)
    quality, resolution = units.quality or "auto", units.resolution or "1k"
    low = quality == "low" or (quality == "auto" and call_type not in ("image_edit", "aimage_edit"))
    table = _table(name, "xai", deployment_prices, cost_map)
    if not low or resolution not in ("1k", "2k") or table is None:
        return None
    by_resolution = any(table.rates.get(f"output_cost_per_image_{r}") is not None for r in ("1K", "2K"))
    missing = by_resolution and not units.request_logged and (units.quality is None or units.resolution is None)
    note = "the log does not carry the requested quality and resolution; priced as quality auto, resolution 1k " \
           "(LiteLLM's defaults)" if missing else None
    count, approx = _count(units.images, units.requested_images)
    flat = next((k for k in ("input_cost_per_image", "output_cost_per_image") if deployment_prices.get(k) is not None),
                None)
    field = flat or f"output_cost_per_image_{resolution.upper()}"
    rate = deployment_prices.get(field) if flat else table.rates.get(field)
    if rate is None:
        return None
    where = "the deployment's prices" if flat else table.source
    return CallPrice(float(rate), count, False, f"{field} of {where}", approx or note)


# llms/fal_ai/cost_calculator.py's constants: the size and quality of a keyed row when the request names none,
# fal.ai's named image sizes, and its megapixel
_FAL_DEFAULT_SIZE = (1024, 768)
_FAL_DEFAULT_QUALITY = "high"
_FAL_NAMED_SIZES = {"square_hd": (1024, 1024), "square": (512, 512), "portrait_4_3": (768, 1024),
                    "portrait_16_9": (576, 1024), "landscape_4_3": (1024, 768), "landscape_16_9": (1024, 576)}
_MEGAPIXEL = 1_048_576


def _fal(name: str, deployment_prices: dict[str, Any], cost_map: Any, units: Any) -> CallPrice | str:
    """llms/fal_ai/cost_calculator.py: the deployment's ``output_cost_per_image`` × the images; else the row's
    ``output_cost_per_image_<resolution>`` for the requested resolution; else, where the map keys the model by
    quality and size (``fal_ai/<quality>/<W-x-H>/<model>``), each image at the row nearest its pixel count (its
    width and height as the response states them, else the requested ``image_size``, else 1024x768; quality the
    requested one, else ``high``); else ``output_cost_per_image`` per image, or ``output_cost_per_pixel`` per
    started megapixel of an image whose size the response states."""
    model = name.removeprefix("fal_ai/")
    count, approx = _count(units.images, units.requested_images)
    if deployment_prices.get("output_cost_per_image") is not None:
        return CallPrice(float(deployment_prices["output_cost_per_image"]), count, False,
                         "output_cost_per_image of the deployment's prices", approx)
    entry = cost_map.entry(f"fal_ai/{model}") if f"fal_ai/{model}" in cost_map else {}
    if units.resolution is not None and entry.get(f"output_cost_per_image_{units.resolution}") is not None:
        field = f"output_cost_per_image_{units.resolution}"
        return CallPrice(float(entry[field]), count, False, f"{field} of fal_ai/{model}", approx)
    # what the log lacks that could change the price: the request (a payload never holds it)
    unknown = [] if units.request_logged or not any(k.startswith("output_cost_per_image_") for k in entry) \
        else ["the requested resolution"]
    dims = units.image_dimensions if units.image_dimensions is not None else (None,) * count
    quality = units.quality if units.quality and units.quality != "auto" else _FAL_DEFAULT_QUALITY
    rows = _fal_rows(cost_map, model, quality)
    if rows:
        wanted = _fal_size(units.fal_image_size)
        total = 0.0
        for d in dims:
            target = d or wanted or _FAL_DEFAULT_SIZE
            area = target[0] * target[1]
            total += min(rows, key=lambda r: (abs(r[0] * r[1] - area), r[0] * r[1]))[2]
        if not units.request_logged and (units.quality is None or any(d is None for d in dims)):
            unknown.append("the requested quality and image_size (LiteLLM's defaults: high, 1024x768)")
        note = approx or (f"the log does not carry {' or '.join(unknown)}" if unknown else None)
        return CallPrice(total, 1, False, f"output_cost_per_image of the fal_ai/{quality}/<size>/{model} rows "
                         f"nearest each of {len(dims)} image(s)", note)
    table = _table(model, "fal_ai", deployment_prices, cost_map)
    if table is None:
        return f"image call to fal_ai/{model}: neither the cost map nor the deployment prices it (LiteLLM raises " \
               "and the proxy books $0)"
    per_image = float(table.rates.get("output_cost_per_image") or 0.0)
    per_pixel = table.rates.get("output_cost_per_pixel")
    total = sum(float(per_pixel) * _MEGAPIXEL * -(-(d[0] * d[1]) // _MEGAPIXEL)
                if d is not None and per_pixel is not None else per_image for d in dims)
    note = approx or (f"the log does not carry {' or '.join(unknown)}" if unknown else None)
    return CallPrice(total, 1, False, f"output_cost_per_image / output_cost_per_pixel of {table.source} for "
                     f"{len(dims)} image(s)", note)


@lru_cache(maxsize=1024)
def _fal_rows(cost_map: Any, model: str, quality: str) -> tuple[tuple[int, int, float], ...]:
    """The map's ``fal_ai/<quality>/<W-x-H>/<model>`` rows with a per-image price: (width, height, price)."""
    prefix, suffix = f"fal_ai/{quality}/", f"/{model}"
    rows = []
    for key, entry in cost_map.entries.items():
        if key.startswith(prefix) and key.endswith(suffix):
            size = _fal_dimensions(key[len(prefix):-len(suffix)])
            price = entry.get("output_cost_per_image")
            if size is not None and isinstance(price, (int, float)):
                rows.append((*size, float(price)))
    return tuple(rows)


def _fal_dimensions(text: str) -> tuple[int, int] | None:
    parts = text.split("-x-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    width, height = int(parts[0]), int(parts[1])
    return (width, height) if width > 0 and height > 0 else None


def _fal_size(image_size: Any) -> tuple[int, int] | None:
    """The requested ``image_size`` as (width, height): None or ``auto`` is fal.ai's default, a name its size,
    ``{width, height}`` itself; anything else None."""
    if image_size is None or image_size == "auto":
        return _FAL_DEFAULT_SIZE
    if isinstance(image_size, dict):
        width, height = image_size.get("width"), image_size.get("height")
        return (width, height) if type(width) is int and type(height) is int else None
    return _FAL_NAMED_SIZES.get(image_size) if isinstance(image_size, str) else None


def _bedrock(name: str, cost_map: Any, units: Any) -> CallPrice | str:
    """llms/bedrock/image_generation/*: ``output_cost_per_image`` of the map row alone (deployment prices are not
    read) × the images; Stability 1 models by the row ``<size>/<steps>/<model>`` (steps: ``max-steps`` above 50,
    else ``50-steps``; the size as route_image_generation_cost_calculator resolves it: the response's, else the
    request's as written, else ``1024-x-1024``); Titan's row is looked up without the provider."""
    titan = "amazon.titan" in name
    family = "sd3" in name or "stable-image" in name or "amazon.nova-canvas" in name
    approx: list[str] = []
    key = name
    if not titan and not family:
        steps = units.steps if units.steps is not None else 50
        size = (units.size or "1024-x-1024").replace("*", "x")
        if not units.request_logged:
            approx.append("the requested size and steps (LiteLLM's defaults: 1024-x-1024, 50 steps)")
        key = f"{size}/{'max-steps' if steps > 50 else '50-steps'}/{name}"
    match = cost_map.find(key, None if titan else "bedrock")
    if match is None:
        return f"image call to bedrock/{key}: no cost-map row (LiteLLM raises and the proxy books $0)"
    rate = cost_map.entry(match.key).get("output_cost_per_image")
    count, missing = _count(units.images, units.requested_images)
    if missing:
        approx.append("the response's images (response.data)")
    note = f"the log does not carry {' or '.join(approx)}" if approx else None
    if rate is None:
        return CallPrice(0.0, count, False, f"output_cost_per_image (unset in {match.key}: the proxy books $0)", note)
    return CallPrice(float(rate), count, False, f"output_cost_per_image of {match.key}", note)
