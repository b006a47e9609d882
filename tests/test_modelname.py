"""costcalc.rates.modelname: model name → provider and cost-map entry, as LiteLLM 1.110.2 resolves them.

Part 1 states the rules on a small hand-written map (PRICING.md §6.2's table and the rules behind it).
Part 2 checks ModelIndex against LiteLLM itself for every key of LiteLLM's bundled cost map and
several variants of each; it is skipped, with the reason shown, when litellm is not installed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from costcalc.rates.modelname import PROVIDER_PREFIXES, MapMatch, ModelIndex


def _chat(provider: str, inp: float = 1e-6, out: float = 2e-6, **extra: object) -> dict:
    return {
        "litellm_provider": provider,
        "mode": "chat",
        "input_cost_per_token": inp,
        "output_cost_per_token": out,
        **extra,
    }


SMALL_MAP: dict[str, dict] = {
    "sample_spec": {"litellm_provider": "one of https://docs.litellm.ai/docs/providers", "mode": "chat"},
    "gpt-4o": _chat("openai", 2.5e-6, 1e-5),
    "gpt-4o-2024-08-06": _chat("openai", 2.5e-6, 1e-5),
    "ft:gpt-4o-2024-08-06": _chat("openai", 3.75e-6, 1.5e-5),
    "azure/gpt-4o": _chat("azure", 2.5e-6, 1e-5),
    "azure/gpt-35-turbo": _chat("azure"),
    "claude-sonnet-4-5-20250929": _chat("anthropic", 3e-6, 1.5e-5),
    "claude-opus-5-5": _chat("anthropic", 5e-6, 2.5e-5),
    "claude-opus-latest": {"alias_of": "claude-opus-5-5"},
    "claude-broken-latest": {"alias_of": "claude-does-not-exist"},
    "anthropic.claude-3-5-sonnet-20241022-v2:0": _chat("bedrock", 3e-6, 1.5e-5),
    "us.anthropic.claude-3-5-sonnet-20241022-v2:0": _chat("bedrock", 3e-6, 1.5e-5),
    "us.amazon.nova-pro-v1:0": _chat("bedrock_converse"),
    "bedrock/claude-opus-latest": {"alias_of": "us.amazon.nova-pro-v1:0"},
    "gemini-2.5-pro": _chat("vertex_ai-language-models", 1.25e-6, 1e-5),
    "gemini/gemini-2.5-pro": _chat("gemini", 1.25e-6, 1e-5),
    "vertex_ai/claude-opus-5-5": _chat("vertex_ai-anthropic_models"),
    "command-r": _chat("cohere_chat"),
    "mistral/mistral-large-latest": _chat("mistral"),
    "bedrock_mantle/openai.gpt-6-astra": _chat("bedrock_mantle"),
    "fireworks_ai/accounts/fireworks/models/kimi-k3": _chat("fireworks_ai"),
    "ollama/llama3": _chat("ollama", 0.0, 0.0),
    "Mixed-Case-Model": _chat("openai"),
    "fallback_generalizations": {
        "rules": [
            {
                "name": "anthropic-claude-ids",
                "pattern": r"^claude-[a-z]+-\d+(?:[-.]\d+)?(?:-\d{8})?$",
                "model_info": {"litellm_provider": "anthropic"},
            },
            {"name": "claude-baseline", "pattern": r"claude-[a-z]+-\d+", "model_info": {"mode": "chat"}},
            # old rule format (provider next to other fields): LiteLLM skips it, so do we
            {
                "name": "old-format",
                "pattern": r"^zz-",
                "model_info": {"litellm_provider": "openai", "mode": "chat"},
            },
        ]
    },
}


@pytest.fixture(scope="module")
def small() -> ModelIndex:
    return ModelIndex(SMALL_MAP)


# --- Part 1: the rules, on a small map ----------------------------------------------------------

# PRICING.md §6.2, "Verified lookups": (model, provider passed, key found or None, provider decided)
PRICING_TABLE = [
    ("gpt-4o", None, "gpt-4o", "openai"),
    ("openai/gpt-4o", None, "gpt-4o", "openai"),
    ("azure/gpt-4o", None, "azure/gpt-4o", "azure"),
    ("gpt-4o", "azure", "azure/gpt-4o", "azure"),
    ("gpt-4o", "azure_ai", "gpt-4o", "azure_ai"),  # azure_ai falls back to the openai entry
    ("gpt-4o", "openrouter", None, "openrouter"),
    ("azure/my-deployment", None, None, "azure"),
    ("anthropic/claude-sonnet-4-5-20250929", None, "claude-sonnet-4-5-20250929", "anthropic"),
    ("anthropic/claude-3-5-sonnet-20241022", None, None, "anthropic"),
    ("claude-sonnet-4-5-20250929", "bedrock", None, "bedrock"),  # anthropic entry, provider mismatch
    (
        "bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0",
        None,
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        "bedrock",
    ),
    (
        "bedrock/us-east-1/anthropic.claude-3-5-sonnet-20241022-v2:0",
        None,
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        "bedrock",
    ),
    (
        "bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
        None,
        "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
        "bedrock",
    ),
    ("vertex_ai/gemini-2.5-pro", None, "gemini-2.5-pro", "vertex_ai"),
    ("gemini-2.5-pro", None, "gemini-2.5-pro", "vertex_ai"),
    ("gemini/gemini-2.5-pro", None, "gemini/gemini-2.5-pro", "gemini"),
    ("unknown-model", None, None, None),
    ("my-org/custom", None, None, None),
]


@pytest.mark.parametrize(("model", "provider", "key", "decided"), PRICING_TABLE)
def test_pricing_table(
    small: ModelIndex, model: str, provider: str | None, key: str | None, decided: str | None
) -> None:
    match = small.find(model, provider)
    assert (match.key if match else None) == key
    if match is not None:
        assert match.provider == decided and match.in_map
    resolved = small.provider_of(model, provider)
    assert (resolved[0] if resolved else None) == decided


def test_miscased_bare_name(small: ModelIndex) -> None:
    """``GPT-4O``: get_llm_provider is case-sensitive and raises, so a priced call raises
    (completion_cost → BadRequestError) and ``find`` gives None; get_model_info alone goes on with
    no provider and matches ``gpt-4o`` case-insensitively, which is what ``lenient=True`` answers.
    With a provider, get_model_info's case-insensitive matching applies directly."""
    assert small.provider_of("GPT-4O") is None
    assert small.find("GPT-4O") is None
    assert small.find("GPT-4O", lenient=True) == MapMatch(
        "gpt-4o", "openai", "case-insensitive match of 'as given'"
    )
    assert small.find("GPT-4O", "openai") == MapMatch(
        "gpt-4o", "openai", "case-insensitive match of 'as given'"
    )
    assert small.find("gemini/GEMINI-2.5-PRO") == MapMatch(
        "gemini/gemini-2.5-pro", "gemini", "case-insensitive match of 'as given'"
    )
    assert small.provider_of("OpenAI/gpt-4o") is None  # prefixes are case-sensitive too


@pytest.mark.parametrize(
    ("model", "lenient_key"),
    [
        ("gpt-4o-2031-01-01", "gpt-4o"),  # a dated name not in the openai list
        ("gpt-35-turbo", "azure/gpt-35-turbo"),  # Azure's response name, rewritten by get_model_info
        ("unknown-model", None),
    ],
)
def test_bare_names_get_llm_provider_rejects(small: ModelIndex, model: str, lenient_key: str | None) -> None:
    """A priced call without a provider raises for these (get_llm_provider finds no provider);
    get_model_info alone still answers, provider-agnostic."""
    assert small.provider_of(model) is None
    assert small.find(model) is None
    found = small.find(model, lenient=True)
    assert (found.key if found else None) == lenient_key


def test_prefixed_dated_name_needs_the_provider_argument(small: ModelIndex) -> None:
    """Without a provider argument, get_model_info strips the date from the whole prefixed string
    and never tries the bare ``gpt-4o``; with one it does."""
    assert small.find("openai/gpt-4o-2031-01-01") is None
    assert small.find("openai/gpt-4o-2031-01-01", "openai").key == "gpt-4o"


@pytest.mark.parametrize(
    ("model", "provider", "expected"),
    [
        ("gpt-4o", None, ("openai", "gpt-4o")),
        ("openai/gpt-4o", None, ("openai", "gpt-4o")),
        ("gpt-4o", "azure", ("azure", "gpt-4o")),
        ("azure/gpt-4o", "azure", ("azure", "gpt-4o")),
        ("claude-sonnet-4-5-20250929", None, ("anthropic", "claude-sonnet-4-5-20250929")),
        ("gemini-2.5-pro", None, ("vertex_ai", "gemini-2.5-pro")),
        (
            "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
            None,
            ("bedrock", "us.anthropic.claude-3-5-sonnet-20241022-v2:0"),
        ),
        ("bedrock/converse/us.amazon.nova-pro-v1:0", None, ("bedrock", "converse/us.amazon.nova-pro-v1:0")),
        ("xai/grok-4", None, ("xai", "grok-4")),  # any known prefix, mapped or not
        ("sagemaker/my-endpoint", None, ("sagemaker", "my-endpoint")),
        ("ft:gpt-4o-2024-08-06:my-org::abc", None, ("openai", "ft:gpt-4o-2024-08-06:my-org::abc")),
        ("claude-newfamily-5", None, ("anthropic", "claude-newfamily-5")),  # routing rule of the map
        ("zz-model", None, None),  # the old-format rule is skipped
        ("openai", None, None),  # a bare provider name
        ("gpt-4o", "my-gateway", ("my-gateway", "my-gateway/gpt-4o")),  # unknown provider kept as given
        ("claude-opus-latest", None, ("anthropic", "claude-opus-5-5")),  # -latest alias resolved
        ("claude-broken-latest", None, None),  # an alias pointing nowhere is dropped
        ("bedrock/claude-opus-latest", None, ("bedrock", "us.amazon.nova-pro-v1:0")),
        ("bedrock_mantle/us-east-1/openai.gpt-6-astra", None, ("bedrock_mantle", "openai.gpt-6-astra")),
        ("azure/command-r", None, ("openai", "azure/command-r")),  # Azure AI Studio cohere → openai route
        ("azure/mistral-large-latest", None, ("openai", "azure/mistral-large-latest")),
        ("cohere/command-r", None, ("cohere_chat", "command-r")),
        ("claude-2", "anthropic", ("anthropic_text", "claude-2")),
        (
            "openrouter/anthropic/claude-3.5-sonnet",
            "openrouter",
            ("openrouter", "anthropic/claude-3.5-sonnet"),
        ),
        ("auto", "openrouter", ("openrouter", "openrouter/auto")),
        ("ragflow/chat/abc/gpt-4o", None, ("ragflow", "ragflow/chat/abc/gpt-4o")),
        ("ragflow/gpt-4o", None, None),  # not ragflow/{chat|agent}/{id}/{model}
        ("github_copilot/gpt-4o", None, ("github_copilot", "gpt-4o")),  # declared, no login flow
        ("r8/some-model:" + "a" * 64, None, ("replicate", "r8/some-model:" + "a" * 64)),
    ],
)
def test_provider_of(
    small: ModelIndex, model: str, provider: str | None, expected: tuple[str, str] | None
) -> None:
    assert small.provider_of(model, provider) == expected


@pytest.mark.parametrize(
    ("model", "provider", "expected"),
    [
        # lookup order: provider/model, as given, ..., prefix stripped, provider/stripped, stripped
        ("gpt-4o", "azure", MapMatch("azure/gpt-4o", "azure", "provider/model")),
        ("openai/gpt-4o", None, MapMatch("gpt-4o", "openai", "prefix stripped")),
        ("gpt-4o-2031-01-01", "openai", MapMatch("gpt-4o", "openai", "stripped")),  # dated snapshot
        ("openai/gpt-4o-2031-01-01", "openai", MapMatch("gpt-4o", "openai", "stripped")),
        (
            "ft:gpt-4o-2024-08-06:my-org::abc",
            None,
            MapMatch("ft:gpt-4o-2024-08-06", "openai", "stripped"),
        ),  # fine-tune suffix
        (
            "ft:gpt-4o-2024-08-06:my-org:suffix:abc",
            "openai",
            MapMatch("ft:gpt-4o-2024-08-06", "openai", "stripped"),
        ),
        ("gemini-2.5-pro-001", "vertex_ai", MapMatch("gemini-2.5-pro", "vertex_ai", "stripped")),
        (
            "bedrock/us-east-1/anthropic.claude-3-5-sonnet-20241022-v2:0",
            None,
            MapMatch("anthropic.claude-3-5-sonnet-20241022-v2:0", "bedrock", "stripped"),
        ),
        (
            "bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0:51k",
            None,
            MapMatch("anthropic.claude-3-5-sonnet-20241022-v2:0", "bedrock", "stripped"),
        ),  # throughput
        (
            "bedrock/arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
            None,
            MapMatch("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "bedrock", "prefix stripped"),
        ),
        (
            "bedrock_mantle/us-east-1/openai.gpt-6-astra",
            None,
            MapMatch("bedrock_mantle/openai.gpt-6-astra", "bedrock_mantle", "region-free provider/model"),
        ),
        (
            "fireworks_ai/kimi-k3",
            None,
            MapMatch("fireworks_ai/accounts/fireworks/models/kimi-k3", "fireworks_ai", "provider-prefixed"),
        ),
        (
            "mixed-case-model",
            "openai",
            MapMatch("Mixed-Case-Model", "openai", "case-insensitive match of 'as given'"),
        ),
        ("gpt-35-turbo", "azure", MapMatch("azure/gpt-35-turbo", "azure", "provider/model")),  # Azure's name
        # -latest aliases are map keys of their own, priced as their target
        ("claude-opus-latest", None, MapMatch("claude-opus-latest", "anthropic", "as given")),
        ("bedrock/claude-opus-latest", None, MapMatch("bedrock/claude-opus-latest", "bedrock", "as given")),
    ],
)
def test_find_lookup_order(small: ModelIndex, model: str, provider: str | None, expected: MapMatch) -> None:
    assert small.find(model, provider) == expected


@pytest.mark.parametrize(
    ("model", "provider", "key"),
    [
        # _check_provider_match: an entry of another provider only passes for these exceptions
        ("claude-opus-5-5", "vertex_ai", "vertex_ai/claude-opus-5-5"),  # vertex_ai-* entries
        ("us.amazon.nova-pro-v1:0", "bedrock", "us.amazon.nova-pro-v1:0"),  # bedrock* entries
        ("gpt-4o", "litellm_proxy", "gpt-4o"),
        ("gpt-4o", "github", "gpt-4o"),
        ("gpt-4o", "nadir", "gpt-4o"),
        ("azure/gpt-4o", "azure_ai", "azure/gpt-4o"),  # azure_ai → azure or openai entries
        ("gpt-4o", "anthropic", None),
        ("gemini-2.5-pro", "openai", None),  # the vertex entry is not openai's
        ("claude-sonnet-4-5-20250929", "azure_ai", None),
    ],
)
def test_provider_match(small: ModelIndex, model: str, provider: str, key: str | None) -> None:
    match = small.find(model, provider)
    assert (match.key if match else None) == key


def test_zero_price_matches_are_marked(small: ModelIndex) -> None:
    """Names LiteLLM answers without a map entry price at 0.0 instead of raising."""
    assert small.find("claude-newfamily-5") == MapMatch(
        "claude-newfamily-5", "anthropic", "generalization claude-baseline (no prices)", in_map=False
    )
    # a rule never shadows an entry that exists under another provider
    assert small.find("claude-sonnet-4-5-20250929", "bedrock") is None
    assert small.find("ollama/llama3") == MapMatch("ollama/llama3", "ollama", "as given")
    assert small.find("ollama/qwen9") == MapMatch("qwen9", "ollama", "ollama runtime info (no prices)", False)
    assert small.find("lemonade/x").key == "lemonade/x"
    assert not small.find("huggingface/org/model").in_map


def test_entry_serves_aliases_and_skips_non_models(small: ModelIndex) -> None:
    assert small.entry("claude-opus-latest") == SMALL_MAP["claude-opus-5-5"]
    assert small.entry("sample_spec") is None
    assert small.entry("fallback_generalizations") is None
    assert small.entry("claude-broken-latest") is None
    assert small.find("sample_spec", lenient=True) is None


def test_empty_and_odd_names(small: ModelIndex) -> None:
    assert small.find("") is None and small.provider_of("") is None
    assert small.find("gpt-4o", "") == small.find("gpt-4o")


def test_suggest(small: ModelIndex) -> None:
    assert small.suggest("gpt4o")[0] == "gpt-4o"
    assert "claude-sonnet-4-5-20250929" in small.suggest("anthropic/claude-sonet-4-5-20250929")
    assert small.suggest("GEMINI-2.5-PRO", n=1) == ["gemini-2.5-pro"]


# --- Part 2: differential test against LiteLLM --------------------------------------------------

PRICE_FIELDS = (
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
)


@pytest.fixture(scope="module")
def litellm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    with pytest.MonkeyPatch.context() as mp:
        # Set before litellm is imported: use the bundled map, never fetch one. Runtime model info
        # (Ollama, Lemonade) is pointed at a closed local port and HOME at a scratch directory.
        mp.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        mp.setenv("OLLAMA_API_BASE", "http://127.0.0.1:9")
        mp.setenv("LEMONADE_API_BASE", "http://127.0.0.1:9")
        mp.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        module = pytest.importorskip(
            "litellm", reason="litellm not installed: no differential test against it"
        )
        mp.setattr(module, "suppress_debug_info", True)
        yield module


@pytest.fixture(scope="module")
def bundled_map(litellm: object) -> dict:
    return json.loads(
        (Path(litellm.__file__).parent / "model_prices_and_context_window_backup.json").read_text()
    )


@pytest.fixture(scope="module")
def index(bundled_map: dict) -> ModelIndex:
    return ModelIndex(bundled_map)


def _map_keys(bundled_map: dict) -> list[str]:
    return [key for key in bundled_map if key not in ("sample_spec", "fallback_generalizations")]


def _family(index: ModelIndex, key: str) -> str:
    provider = index.entry(key).get("litellm_provider") or ""
    return provider.split("-", 1)[0]


def _bare(key: str, family: str) -> str:
    return key.removeprefix(f"{family}/")


_WRONG = (
    "anthropic",
    "openai",
    "azure_ai",
    "bedrock",
    "vertex_ai",
    "openrouter",
    "litellm_proxy",
    "fireworks_ai",
    "gemini",
    "mistral",
    "nadir",
    "groq",
)


def _wrong(key: str, family: str) -> str:
    """A provider that is not the entry's own, spread over the providers with special match rules."""
    wrong = _WRONG[sum(map(ord, key)) % len(_WRONG)]
    return "deepseek" if wrong == family else wrong


# variant kind → (key, family) → (model, provider passed) or None where the kind does not apply
Variant = Callable[[str, str], "tuple[str, str | None] | None"]
VARIANTS: dict[str, Variant] = {
    "as given": lambda k, f: (k, None),
    "with provider prefix": lambda k, f: (f"{f}/{_bare(k, f)}", None),
    "provider argument": lambda k, f: (k, f),
    "bare name + provider argument": lambda k, f: (_bare(k, f), f),
    "upper-cased": lambda k, f: (k.upper(), None),
    "upper-cased + provider argument": lambda k, f: (k.upper(), f),
    "wrong provider prefix": lambda k, f: (f"{_wrong(k, f)}/{_bare(k, f)}", None),
    "wrong provider argument": lambda k, f: (k, _wrong(k, f)),
    "dated snapshot suffix": lambda k, f: (f"{k}-2031-02-03", None),
    "dated snapshot suffix + provider argument": lambda k, f: (f"{_bare(k, f)}-2031-02-03", f),
    "version suffix (vertex_ai, gemini)": lambda k, f: (
        (f"{_bare(k, f)}-007", f) if f in ("vertex_ai", "gemini") else None
    ),
    "unmapped suffix": lambda k, f: (f"{k}-custom", None),
    "bedrock region path": lambda k, f: (
        (f"bedrock/us-west-2/{_bare(k, f)}", None) if f == "bedrock" else None
    ),
    "bedrock/converse route": lambda k, f: (
        (f"bedrock/converse/{_bare(k, f)}", None) if f == "bedrock" else None
    ),
    "openai fine-tune": lambda k, f: (f"ft:{k}:my-org::abc123", None) if f == "openai" else None,
    "azure deployment of an openai model": lambda k, f: (f"azure/{k}", None) if f == "openai" else None,
}

# Where ModelIndex and LiteLLM disagree, by variant kind. Each is listed with its reason and
# asserted below, so a new disagreement fails the test.
#
# ScaleDown (a prompt-compression service) accepts exactly five operation names. For any other name
# LiteLLM's get_model_info raises ScaleDownError while collecting supported OpenAI params, after its
# cost-map lookup has already found the entry (get_model_info_helper returns it). A call under such a
# name is rejected by the same check (the request transformation calls it too) before anything is
# sent, so there is never a cost to compute; ModelIndex reports the entry the lookup finds.
SCALEDOWN_OPERATIONS = ("extract", "summarize", "compress", "classify", "decisions")
# kind → {model: provider passed}
KNOWN_DIFFERENCES: dict[str, dict[str, str | None]] = {
    "dated snapshot suffix": {f"scaledown/{op}-2031-02-03": None for op in SCALEDOWN_OPERATIONS},
    "upper-cased + provider argument": {
        f"SCALEDOWN/{op.upper()}": "scaledown" for op in SCALEDOWN_OPERATIONS
    },
    "dated snapshot suffix + provider argument": {
        f"{op}-2031-02-03": "scaledown" for op in SCALEDOWN_OPERATIONS
    },
}


def _litellm_info(litellm: object, model: str, provider: str | None) -> dict | None:
    try:
        return litellm.get_model_info(model, custom_llm_provider=provider)
    except Exception:
        return None


def _litellm_provider(model: str, provider: str | None) -> tuple[str, str] | None:
    # get_llm_provider, except that github_copilot / chatgpt keep their declared provider instead of
    # starting a login (LiteLLM's own metadata path, and what ModelIndex documents).
    from litellm.litellm_core_utils.get_llm_provider_logic import resolve_model_and_provider_for_metadata

    try:
        name, decided = resolve_model_and_provider_for_metadata(model, provider)
    except Exception:
        return None
    return decided, name


def _prices(info: dict) -> tuple[float, ...]:
    return tuple(info.get(field) or 0.0 for field in PRICE_FIELDS)


@pytest.mark.parametrize("kind", list(VARIANTS))
def test_matches_litellm_for_every_map_key(
    litellm: object, bundled_map: dict, index: ModelIndex, kind: str
) -> None:
    from litellm.utils import get_model_info_helper

    mismatches: dict[str, str] = {}
    checked = 0
    for key in _map_keys(bundled_map):
        variant = VARIANTS[kind](key, _family(index, key))
        if variant is None:
            continue
        model, provider = variant
        checked += 1
        expected = _litellm_info(litellm, model, provider)
        decided = _litellm_provider(model, provider)

        found = index.find(model, provider, lenient=True)
        if (found.key if found else None) != (expected["key"] if expected else None):
            mismatches[model] = f"find: ours {found}, litellm {expected and expected['key']}"
        elif found is not None:
            ours = _prices(index.entry(found.key)) if found.in_map else (0.0,) * len(PRICE_FIELDS)
            if ours != _prices(expected):
                mismatches[model] = f"prices: ours {ours}, litellm {_prices(expected)}"
        if index.provider_of(model, provider) != decided:
            mismatches[model] = f"provider_of: ours {index.provider_of(model, provider)}, litellm {decided}"
        if provider is None:
            # a priced call: get_llm_provider first, so a name it rejects raises
            strict = index.find(model)
            wanted = expected["key"] if expected and decided else None
            if (strict.key if strict else None) != wanted and model not in mismatches:
                mismatches[model] = f"find (priced call): ours {strict}, litellm {wanted}"

    assert checked > 0
    known = KNOWN_DIFFERENCES.get(kind, {})
    assert {m: why for m, why in mismatches.items() if m not in known} == {}
    assert set(mismatches) == set(known)  # each documented difference still exists
    for model, provider in known.items():
        assert _litellm_info(litellm, model, provider) is None
        helper = get_model_info_helper(model=model, custom_llm_provider=provider)
        assert index.find(model, provider, lenient=True).key == helper["key"]


def test_miscased_bare_names_match_litellm(litellm: object, bundled_map: dict, index: ModelIndex) -> None:
    """get_model_info alone (lenient) vs a priced call (default) for names get_llm_provider rejects."""
    rejected = 0
    for key in _map_keys(bundled_map):
        model = key.upper()
        if model == key or _litellm_provider(model, None) is not None:
            continue
        rejected += 1
        assert index.find(model) is None
        expected = _litellm_info(litellm, model, None)
        found = index.find(model, lenient=True)
        assert (found.key if found else None) == (expected["key"] if expected else None), model
    assert rejected > 1000


def test_pricing_table_against_bundled_map(litellm: object, index: ModelIndex) -> None:
    """PRICING.md §6.2's verified lookups hold on the bundled map, for ModelIndex and for LiteLLM."""
    for model, provider, key, decided in PRICING_TABLE:
        match = index.find(model, provider)
        expected = _litellm_info(litellm, model, provider)
        assert (match.key if match else None) == (expected["key"] if expected else None) == key, model
        ours, theirs = index.provider_of(model, provider), _litellm_provider(model, provider)
        assert (ours[0] if ours else None) == (theirs[0] if theirs else None) == decided, model
    # the miscased bare name: get_model_info finds gpt-4o, get_llm_provider (so a priced call) raises
    assert _litellm_info(litellm, "GPT-4O", None)["key"] == index.find("GPT-4O", lenient=True).key == "gpt-4o"
    assert _litellm_provider("GPT-4O", None) is None and index.find("GPT-4O") is None


def test_provider_prefixes_are_litellms(litellm: object) -> None:
    from litellm.llms.bedrock.common_utils import get_all_bedrock_regions
    from litellm.llms.openai_like.json_loader import JSONProviderRegistry

    from costcalc.rates.modelname import _BEDROCK_REGIONS

    JSONProviderRegistry.load()
    enum_providers = {getattr(p, "value", p) for p in litellm.provider_list}
    assert set(PROVIDER_PREFIXES) == enum_providers | set(JSONProviderRegistry.list_providers())
    assert set(get_all_bedrock_regions()) == _BEDROCK_REGIONS
