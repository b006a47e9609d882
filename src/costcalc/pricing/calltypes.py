"""Calls the proxy prices by other units than tokens: images (per image by size and quality, or per pixel),
speech (per character of the input, or per token) and transcription (per second of audio, or per token), read
from LiteLLM 1.110.2's ``cost_calculator.completion_cost`` (the image branch: ``route_image_generation_cost_
calculator`` → ``default_image_cost_calculator``, the providers' own in pricing/images.py; speech: ``cost_per_token``
→ ``generic_cost_per_character`` or ``generic_cost_per_token``; transcription: ``cost_per_token`` →
``openai_cost_per_second`` or ``generic_cost_per_token``). Each call comes out as one rate times one unit count,
which reports book exactly like token units (pricing/exact.py), as tokens priced like a chat call (``ByTokens``),
or as the reason it cannot be priced.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from ..rates.sheets import prices_anything

IMAGE_CALLS = frozenset({"image_generation", "aimage_generation", "image_edit", "aimage_edit",
                         "image_variation", "aimage_variation"})
SPEECH_CALLS = frozenset({"speech", "aspeech"})
TRANSCRIPTION_CALLS = frozenset({"transcription", "atranscription"})
RERANK_CALLS = frozenset({"rerank", "arerank"})
OCR_CALLS = frozenset({"ocr", "aocr"})
PRICED_CALLS = IMAGE_CALLS | SPEECH_CALLS | TRANSCRIPTION_CALLS | RERANK_CALLS | OCR_CALLS
# rerank providers whose configs price the response's billed tokens instead of its search units
_TOKEN_RERANK_PROVIDERS = frozenset({"jina_ai", "voyage"})
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


@lru_cache(maxsize=1024)
def _sized_rows(cost_map: Any, name: str) -> bool:
    """Whether the cost map has a row pricing ``name`` at a given size (``<size>/<name>``, ``<quality>/<size>/...``)."""
    tail = f"/{name}"
    return any(k.endswith(tail) and "-x-" in k for k in cost_map.entries)


def image_price(model: str, provider: str | None, deployment_prices: dict[str, Any], cost_map: Any,
                images: int | None, requested: int | None, size: str | None, quality: str | None,
                by_quality: bool = True) -> CallPrice | str:
    """An image call priced as ``default_image_cost_calculator`` (OpenAI and Azure DALL·E models, and every
    provider route_image_generation_cost_calculator has no calculator of its own for: pricing/images.py): the
    deployment's own prices first, then the first cost-map row among ``<quality>/<size>/<model>`` and its variants
    (a ``model`` written with its provider also as ``<provider>/<size>/<name>``); the first of per-image input,
    per-image output and per-pixel prices, × the images the response holds (LiteLLM counts ``response.data``).

    The proxy takes size and quality from the response, else from the request's optional parameters, which its
    standard logging payload leaves out (``model_parameters`` keeps only the ``n``): they are known from a log
    only when the response states them or the request body is stored. Where the price depends on one the log
    lacks, LiteLLM's default stands in (1024x1024, ``standard``) and the price is marked approximate.
    ``by_quality`` False: a caller that passes no quality (Azure AI's per-pixel fallback), so no row by quality."""
    size_key = _size(size)
    height, width = (int(x) for x in size_key.split("-x-"))
    shown_quality = quality or DEFAULT_QUALITY
    count = images if images is not None else (requested if requested is not None else 1)
    bare = model[len(provider) + 1:] if provider and model.startswith(f"{provider}/") else None
    name = bare or model
    last = model.split("/")[-1]
    base = f"{provider}/{size_key}/{bare}" if bare is not None else f"{size_key}/{model}"
    q = f"{shown_quality}/" if by_quality else ""
    candidates = tuple(k for k in (f"{q}{base}", by_quality and provider and f"{provider}/{q}{size_key}/{name}",
                                   base, f"high/{base}", f"{q}{size_key}/{last}", f"{size_key}/{last}", model, bare)
                       if k)
    tables: list[tuple[str | None, dict[str, Any]]] = [(None, deployment_prices)]
    key = next((k for k in candidates if k in cost_map), None)
    if key is not None:
        tables.append((key, cost_map.entry(key)))
    shown_size = size_key.replace("-x-", "x")
    for map_key, table in tables:
        for field in IMAGE_PRICE_FIELDS:
            rate = table.get(field)
            if rate is None:
                continue
            per_pixel = field == "input_cost_per_pixel"
            # the size and quality pick the row only where the map prices this model by size
            sized = map_key is not None and _sized_rows(cost_map, last)
            missing = [what for what, lacking in (
                ("the response's images (response.data)", images is None),
                ("the requested size", size is None and (per_pixel or sized)),
                ("the requested quality", by_quality and quality is None and sized)) if lacking]
            approx = None
            if missing:
                shown = f"{shown_size}, quality {shown_quality}" if by_quality else shown_size
                approx = (f"the log does not carry {' or '.join(missing)}; priced as {count} image(s) of "
                          f"{shown} (LiteLLM's defaults)")
            where = "the deployment's prices" if map_key is None else map_key
            return CallPrice(float(rate), count * height * width if per_pixel else count, False,
                             f"{field} of {where}", approx)
    return (f"the proxy prices it per image, but no per-image or per-pixel price for {name} at size {shown_size}, "
            f"quality {shown_quality} (cost-map rows {', '.join(candidates[:3])})")


class ByTokens(NamedTuple):
    """A call the proxy prices by its usage with the token formula, as a chat call (the model's rate card, service
    tier, discount and margin): ``prompt_tokens`` replaces the record's count where the proxy counted it itself."""

    prompt_tokens: int | None
    approximate: str | None


def lyria_price(provider: str | None, model: str, cost_map: Any) -> CallPrice | None:
    """A Vertex AI Lyria music generation (a speech call): ``output_cost_per_image`` of the ``vertex_ai/<model>``
    row per generation (``get_vertex_ai_lyria_generation_cost``, the rows LiteLLM marks with a
    ``vertex_ai_audio_api``: speech rows with a per-generation price); None for any other speech call."""
    if provider not in ("vertex_ai", "vertex_ai_beta"):
        return None
    key = model if model.startswith("vertex_ai/") else f"vertex_ai/{model.split('/', 1)[-1]}"
    entry = cost_map.entry(key) if key in cost_map else {}
    rate = entry.get("output_cost_per_image")
    if entry.get("mode") != "audio_speech" or rate is None:
        return None
    return CallPrice(float(rate), 1, False, f"output_cost_per_image of {key} (per generation)", None)


def speech_price(rates: dict[str, Any], characters: int | None, text_length: int | None,
                 usage_logged: bool) -> CallPrice | ByTokens | str:
    """A speech call as ``cost_per_token``'s speech branch prices it (``select_cost_metric_for_model``): per
    character of its input text when the model has ``input_cost_per_character`` (whitespace is not counted:
    ``litellm.utils.count_characters``), else per token: the response's usage (Vertex, DashScope), or, when the
    provider reported none (OpenAI's gpt-4o-mini-tts), the input text's tokens that ``completion_cost`` counts
    itself with ``token_counter`` at the input rate, a count the proxy does not log."""
    rate = rates.get("input_cost_per_character")
    if rate is None:
        if rates.get("input_cost_per_token") is None:
            return "the model has neither input_cost_per_character nor input_cost_per_token (LiteLLM raises)"
        if usage_logged:
            return ByTokens(None, None)
        if text_length is None:
            return ("speech priced per token of the input text, but the log carries neither the response's usage "
                    "nor the input text (proxy_server_request.input, stored only with store_prompts_in_spend_logs)")
        estimate = -(-text_length // 4)
        return ByTokens(estimate, "the proxy counts the input text's tokens with its tokenizer and does not log the "
                        f"count; priced as {estimate} tokens (a token per 4 characters)")
    if characters is None:
        return ("speech priced per character, but the log does not carry the input text "
                "(proxy_server_request.input, stored only with store_prompts_in_spend_logs)")
    return CallPrice(float(rate), characters, False, "input_cost_per_character", None)


_TRANSCRIPTION_TOKEN_RATES = ("input_cost_per_token", "output_cost_per_token", "input_cost_per_audio_token",
                              "output_cost_per_audio_token")
_TRANSCRIPTION_SECOND_RATES = ("input_cost_per_second", "output_cost_per_second")
MEASURED_DURATION = ("the proxy measures the uploaded audio's duration itself and does not log it; priced from the "
                     "response's usage.seconds")


def transcription_price(rates: dict[str, Any], seconds: float | None, from_usage: bool,
                        usage_logged: bool) -> CallPrice | ByTokens | str:
    """A transcription as ``cost_per_token``'s transcription branch prices it: by the response's token usage
    (``_transcription_uses_token_pricing``: a usage with tokens, on a model that does not declare only per-second
    prices), else per second (``openai_cost_per_second``): ``output_cost_per_second`` when above zero, else
    ``input_cost_per_second``, × the audio's duration: the response's ``duration``, else the duration the proxy
    measures from the uploaded file (``_transcription_duration_for_cost``), which it does not log."""
    declares_tokens = any(rates.get(k) is not None for k in _TRANSCRIPTION_TOKEN_RATES)
    declares_seconds = any(rates.get(k) is not None for k in _TRANSCRIPTION_SECOND_RATES)
    if usage_logged and (declares_tokens or not declares_seconds):
        return ByTokens(None, None)
    if not declares_seconds:
        return "transcription with neither token usage nor a per-second price (the proxy books $0)"
    out = rates.get("output_cost_per_second")
    field = "output_cost_per_second" if out is not None and out > 0 else "input_cost_per_second"
    if seconds is None:
        return ("transcription priced per second of audio, but the log does not carry the duration "
                "(response.duration or response.usage.seconds)")
    return CallPrice(float(rates.get(field) or 0.0), seconds, True, field, MEASURED_DURATION if from_usage else None)


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


OCR_PRICE_FIELDS = ("ocr_cost_per_page", "ocr_cost_per_credit", "annotation_cost_per_page")
def ocr_rates(model_rates: dict[str, Any], info_prices: dict[str, Any], params_prices: dict[str, Any],
              registered: dict[str, Any]) -> dict[str, Any]:
    """The OCR prices ``ocr_cost`` reads for a custom-priced deployment (one that sets a price LiteLLM's
    custom-pricing check knows; any other is priced from the model's row alone), field by field
    (``_layered_ocr_pricing``): the deployment's own, its
    ``litellm_params`` before its ``model_info`` (``_ocr_model_info``: the call's litellm_params, then the entry the
    Router registered), then ``get_model_info`` of the model ``completion_cost`` prices by: for a deployment whose
    registered entry prices anything (a token rate: ``rates.sheets.prices_anything``) its id, whose entry holds
    only the deployment's own prices (a field it leaves unset is unset: no per-page price books $0, no annotation
    price takes the page price); else the model's cost-map row (``model_rates``). Verified against a real Router's
    ``aocr`` (tests/test_ocr_calls.py)."""
    own = {f: v for f in OCR_PRICE_FIELDS
           if (v := params_prices.get(f) if params_prices.get(f) is not None else info_prices.get(f)) is not None}
    base = {} if prices_anything(registered) else model_rates
    return {**{f: base[f] for f in OCR_PRICE_FIELDS if base.get(f) is not None}, **own}


def ocr_price(rates: dict[str, Any], pages: int | None, annotation_pages: int, credits: float | None,
              response_logged: bool) -> CallPrice | str:
    """An OCR call as ``cost_calculator.ocr_cost`` prices it from the response's ``usage_info``: the credits it
    reports × ``ocr_cost_per_credit`` when both are there, else ``ocr_cost_per_page`` × the pages processed plus
    ``annotation_cost_per_page`` (the page price when unset) × the annotated pages, on the prices ``ocr_rates``
    lays out. No page price and no billable annotation: LiteLLM books $0."""
    per_credit = rates.get("ocr_cost_per_credit")
    if credits is not None and per_credit is not None:
        return CallPrice(float(per_credit), credits, False, "ocr_cost_per_credit", None)
    if not response_logged:
        return ("priced per page of the response's usage_info (pages_processed), which the log carries neither in "
                "the response nor in metadata.usage_object")
    per_page = rates.get("ocr_cost_per_page")
    annotation = rates.get("annotation_cost_per_page", per_page)
    billable_annotation = annotation is not None and annotation_pages > 0
    if pages is None and not billable_annotation:
        if per_credit is not None or per_page is None:
            return CallPrice(0.0, 0, False, "ocr_cost_per_page (none for the pages processed: LiteLLM books $0)",
                             None)
        return "the response's usage_info has no pages_processed (LiteLLM raises and books nothing)"
    if per_page is None and not billable_annotation:
        return CallPrice(0.0, pages or 0, False, "ocr_cost_per_page (none configured: LiteLLM books $0)", None)
    if not billable_annotation:
        return CallPrice(float(per_page), pages or 0, False, "ocr_cost_per_page", None)
    if per_page is None or not pages:
        return CallPrice(float(annotation), annotation_pages, False, "annotation_cost_per_page", None)
    if annotation == per_page:
        return CallPrice(float(per_page), pages + annotation_pages, False, "ocr_cost_per_page", None)
    # two prices in one call: booked as one charge of LiteLLM's own sum
    total = float(per_page) * pages + float(annotation) * annotation_pages
    return CallPrice(total, 1, False, f"ocr_cost_per_page × {pages} + annotation_cost_per_page × "
                     f"{annotation_pages}", None)
