"""Calls the proxy prices by other units than tokens: images (per image by size and quality, or per pixel),
speech (per character of the input) and transcription (per second of audio), read from LiteLLM 1.110.2's
``cost_calculator.completion_cost`` (the image branch: ``route_image_generation_cost_calculator`` →
``default_image_cost_calculator``; speech: ``cost_per_token`` → ``generic_cost_per_character``; transcription:
``cost_per_token`` → ``openai_cost_per_second``). Each call comes out as one rate times one unit count, which
reports book exactly like token units (pricing/exact.py), or as the reason it cannot be priced.
"""

from __future__ import annotations

from typing import Any, NamedTuple

IMAGE_CALLS = frozenset({"image_generation", "aimage_generation", "image_edit", "aimage_edit",
                         "image_variation", "aimage_variation"})
SPEECH_CALLS = frozenset({"speech", "aspeech"})
TRANSCRIPTION_CALLS = frozenset({"transcription", "atranscription"})
RERANK_CALLS = frozenset({"rerank", "arerank"})
PRICED_CALLS = IMAGE_CALLS | SPEECH_CALLS | TRANSCRIPTION_CALLS | RERANK_CALLS
# rerank providers whose configs price the response's billed tokens instead of its search units
_TOKEN_RERANK_PROVIDERS = frozenset({"jina_ai", "voyage"})
# the providers whose images LiteLLM prices with default_image_cost_calculator (per image or per pixel); the
# others have calculators of their own (Vertex, Bedrock, Gemini, xAI, fal.ai, ...) not reproduced here
_DEFAULT_IMAGE_PROVIDERS = frozenset({"openai", "azure"})
IMAGE_PRICE_FIELDS = ("input_cost_per_image", "output_cost_per_image", "input_cost_per_pixel")
DEFAULT_SIZE = "1024-x-1024"  # what LiteLLM assumes when neither the response nor the request gives a size
DEFAULT_QUALITY = "standard"


class CallPrice(NamedTuple):
    """One call's price: ``units`` (a whole count, or seconds for ``per_second``) × ``rate``."""

    rate: float
    units: int | float
    per_second: bool
    field: str  # the price field, and the table it came from ("input_cost_per_image of standard/1024-x-1024/dall-e-3")
    approximate: str | None  # what the log lacks that the proxy used, and what was assumed instead

    @property
    def cost(self) -> float:
        return self.rate * self.units  # LiteLLM's own product: price × units (× n folded into units)


def _size(size: str | None) -> str:
    s = (size or DEFAULT_SIZE).replace("*", "x")
    return s.replace("x", "-x-") if "x" in s and "-x-" not in s else s


def image_price(model: str, provider: str | None, deployment_prices: dict[str, Any], cost_map: Any,
                images: int | None, requested: int | None, size: str | None, quality: str | None) -> CallPrice | str:
    """An image call priced as ``default_image_cost_calculator``: the deployment's own prices first, then the
    first cost-map row among ``<quality>/<size>/<model>`` and its variants; the first of per-image input, per-image
    output and per-pixel prices, × the images the response holds (LiteLLM counts ``response.data``).

    The proxy takes size and quality from the response, else from the request's optional parameters, which its
    standard logging payload leaves out (``model_parameters`` keeps only the ``n``): they are known from a log
    only when the response states them or the request body is stored. Where the price depends on one the log
    lacks, LiteLLM's default stands in (1024x1024, ``standard``) and the price is marked approximate."""
    if "gpt-image" in model.lower():
        return ("token-priced image model (the proxy prices its response usage by text and image tokens), "
                "which costcalc does not reproduce yet")
    size_key = _size(size)
    height, width = (int(x) for x in size_key.split("-x-"))
    shown_quality = quality or DEFAULT_QUALITY
    count = images if images is not None else (requested if requested is not None else 1)
    name = model.split("/", 1)[1] if provider and model.startswith(f"{provider}/") else model
    last = name.split("/")[-1]
    candidates = (f"{shown_quality}/{size_key}/{name}", f"{provider}/{shown_quality}/{size_key}/{name}",
                  f"{size_key}/{name}", f"high/{size_key}/{name}", f"{shown_quality}/{size_key}/{last}",
                  f"{size_key}/{last}", name)
    tables: list[tuple[str | None, dict[str, Any]]] = [(None, deployment_prices)]
    key = next((k for k in candidates if k in cost_map), None)
    if key is not None:
        tables.append((key, cost_map.entry(key)))
        provider = provider or cost_map.entry(key).get("litellm_provider")
    if provider not in _DEFAULT_IMAGE_PROVIDERS:
        return (f"image call to provider {provider!r}: the proxy prices it with that provider's own image "
                "calculator, which costcalc does not reproduce yet")
    shown_size = size_key.replace("-x-", "x")
    for map_key, table in tables:
        for field in IMAGE_PRICE_FIELDS:
            rate = table.get(field)
            if rate is None:
                continue
            per_pixel = field == "input_cost_per_pixel"
            missing = [what for what, lacking in (
                ("the response's images (response.data)", images is None),
                ("the requested size", size is None and (per_pixel or map_key is not None)),
                ("the requested quality", quality is None and map_key is not None)) if lacking]
            approx = None
            if missing:
                approx = (f"the log does not carry {' or '.join(missing)}; priced as {count} image(s) of "
                          f"{shown_size}, quality {shown_quality} (LiteLLM's defaults)")
            where = "the deployment's prices" if map_key is None else map_key
            return CallPrice(float(rate), count * height * width if per_pixel else count, False,
                             f"{field} of {where}", approx)
    return (f"the proxy prices it per image, but no per-image or per-pixel price for {name} at size {shown_size}, "
            f"quality {shown_quality} (cost-map rows {', '.join(candidates[:3])})")


def speech_price(rates: dict[str, Any], characters: int | None) -> CallPrice | str:
    """A speech call priced per character of its input text (LiteLLM picks per character when the model has
    ``input_cost_per_character``; whitespace is not counted: ``litellm.utils.count_characters``)."""
    rate = rates.get("input_cost_per_character")
    if rate is None:
        return ("speech priced per token (the proxy prices the response's usage), which costcalc does not "
                "reproduce yet")
    if characters is None:
        return ("speech priced per character, but the log does not carry the input text "
                "(proxy_server_request.input, stored only with store_prompts_in_spend_logs)")
    return CallPrice(float(rate), characters, False, "input_cost_per_character", None)


def transcription_price(rates: dict[str, Any], seconds: float | None) -> CallPrice | str:
    """A transcription priced per second of audio: ``output_cost_per_second`` when above zero, else
    ``input_cost_per_second`` (LiteLLM's ``openai_cost_per_second``), × the response's duration."""
    if any("per_token" in k or "audio_token" in k for k in rates) or (
            "output_cost_per_second" not in rates and "input_cost_per_second" not in rates):
        return ("transcription priced per token (the proxy prices the response's usage), which costcalc does not "
                "reproduce yet")
    out = rates.get("output_cost_per_second")
    field = "output_cost_per_second" if out is not None and out > 0 else "input_cost_per_second"
    if seconds is None:
        return ("transcription priced per second of audio, but the log does not carry the duration "
                "(response.duration or response.usage.seconds)")
    return CallPrice(float(rates[field]), seconds, True, field, None)


def rerank_price(rates: dict[str, Any], provider: str | None, search_units: int | None, tokens: int | None,
                 response_logged: bool) -> CallPrice:
    """A rerank priced by its provider's rerank config (``rerank_cost`` → ``calculate_rerank_cost``):
    ``input_cost_per_query`` × the response's ``meta.billed_units.search_units`` (Cohere and most others), or
    ``input_cost_per_token`` × its ``total_tokens`` (Jina AI, Voyage); a price or a unit count that is missing
    books $0, as the proxy does. A log without the response is priced as one search unit (what Cohere bills a
    request of up to 100 documents) and marked."""
    by_token = provider in _TOKEN_RERANK_PROVIDERS
    field = "input_cost_per_token" if by_token else "input_cost_per_query"
    rate = rates.get(field)
    if not response_logged:
        if rate is None:
            return CallPrice(0.0, 0, False, f"{field} (unset: the proxy books $0)", None)
        if by_token:
            return CallPrice(float(rate), 0, False, field, "the log does not carry the rerank response's billed "
                             "tokens (meta.billed_units.total_tokens); priced as 0")
        return CallPrice(float(rate), 1, False, field, "the log does not carry the rerank response's search units "
                         "(meta.billed_units.search_units); priced as 1")
    units = tokens if by_token else search_units
    if rate is None or units is None:
        return CallPrice(0.0, 0, False, f"{field} (the proxy books $0 without it or without billed units)", None)
    return CallPrice(float(rate), units, False, field, None)
