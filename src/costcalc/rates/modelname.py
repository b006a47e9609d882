"""Model name → cost-map entry, resolved the way LiteLLM 1.110.2 resolves it.

This module owns two questions and nothing else:

* which provider LiteLLM decides for a model string (``get_llm_provider``), and
* which cost-map entry ``get_model_info`` returns for it (``get_model_info_helper``).

``ProviderDecider`` answers the first, ``ModelIndex`` the second (and is the entry point: its ``provider_of``
asks the decider), and ``GeneralizationRules`` holds the cost map's fallback rules both consult.

It is pure Python over a cost map given as a dict, so it can be tested against LiteLLM
key by key (``tests/test_modelname.py`` does that for every key of the bundled map).
The rules, in the order LiteLLM applies them, are described in PRICING.md §6; the
docstrings below say where this module deliberately stops short of LiteLLM.

Settings LiteLLM reads from the environment or from a live request are taken at their
defaults: no ``api_base`` (so ``azure_ai`` never turns into ``azure``, no endpoint
sniffing), no ``custom_provider_map``, no ``USE_LITELLM_PROXY``, and no reachable
Ollama / Lemonade server (their runtime model info is LiteLLM's zero-price fallback).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["GeneralizationRules", "MapMatch", "ModelIndex", "ProviderDecider"]

# --- Facts about LiteLLM 1.110.2 that are not in the cost map ---------------------------------
# Provider names it accepts as a ``provider/`` prefix: the LlmProviders enum ...
_ENUM_PROVIDERS = frozenset(
    """
        a2a a2a_agent abliteration ai21 ai21_chat aiand aiml aiohttp_openai amazon_nova anthropic
        anthropic_text apertis assemblyai auto_router aws_polly aws_textract azure azure_ai azure_speech
        azure_text baseten bedrock bedrock_mantle bespoke bigmodel black_forest_labs bytez cerebras
        charity_engine chatgpt chutes clarifai clf_ai_gateway cloudflare codestral cognition cohere
        cohere_chat cometapi compactifai coralbricks cortecs cursor custom custom_openai darkbloom
        dashscope databricks databricks_agent datarobot deepgram deepinfra deepseek docker_model_runner
        dotprompt edenai elevenlabs empiriolabs empower eu_jev fal_ai featherless_ai fireworks_ai
        friendliai galadriel gdc gemini gigachat github github_copilot gradient_ai groq helicone heroku
        hosted_vllm hostinger_router huggingface humanloop hyperbolic inception inferenceapis infinity
        jina_ai kyma lambda_ai langflow langfuse langgraph laya lemonade libertai litellm_agent
        litellm_proxy llamafile lm_studio manus maritalk meta meta_llama microsoft_365_copilot milvus
        minimax mistral modelscope mongodb moonshot morph nace nadir nano-gpt nebius neosantara
        nlp_cloud novita nscale nvidia_nim nvidia_riva oci ollama ollama_chat oobabooga openai
        openai_like opencode_go openinfer openrouter opensearch ovhcloud parallel_ai parasail perplexity
        petals pg_vector pinstripes poe predibase prism publicai qwen_ai_platform qwencloud ragflow
        recraft reducto refuseless reka replicate runwayml s3_vectors sagemaker sagemaker_chat
        sagemaker_nova sail sambanova sap scaledown scaleway scx-ai snowflake soniox stability
        strands_decider streamlake synthetic tencent tensormesh text-completion-codestral
        text-completion-inception text-completion-openai together_ai topaz transcribe triton typesafe v0
        valkey vercel_ai_gateway vertex_ai vertex_ai_beta vllm volcengine voyage wally wandb watsonx
        watsonx_text xai xiaomi_mimo xinference zai zerogpu
    """.split(),  # noqa: SIM905 - a compact data table
)
# ... plus the OpenAI-compatible providers declared in llms/openai_like/providers.json.
_JSON_ONLY_PROVIDERS = frozenset(["aihubmix", "crusoe", "gmi", "llamagate", "sarvam", "veniceai"])
PROVIDER_PREFIXES: frozenset[str] = _ENUM_PROVIDERS | _JSON_ONLY_PROVIDERS

# Resolving these runs an OAuth device flow; LiteLLM's metadata path adopts the declared
# provider instead (resolve_model_and_provider_for_metadata), and so do we.
_AUTHENTICATING_PROVIDERS = frozenset({"github_copilot", "chatgpt"})

_BEDROCK_REGIONS = frozenset(
    """
        us-east-1 us-east-2 us-west-1 us-west-2 us-gov-east-1 us-gov-west-1 eu-west-1 eu-west-2
        eu-west-3 eu-central-1 eu-central-2 eu-south-1 eu-south-2 eu-north-1 ap-northeast-1
        ap-northeast-2 ap-northeast-3 ap-south-1 ap-south-2 ap-southeast-1 ap-southeast-2 ca-central-1
        sa-east-1
    """.split(),  # noqa: SIM905 - a compact data table
)
_BEDROCK_GEO_PREFIXES = frozenset({"global", "us", "eu", "apac", "jp", "au", "us-gov"})
# utils._BEDROCK_REGION_PREFIXES, tried by registration's fallback lookup in this order.
_REGISTRATION_GEO_PREFIXES = ("us.", "eu.", "apac.", "jp.", "au.", "us-gov.", "global.", "ap-northeast-1.")
_BEDROCK_ROUTE_PREFIXES = (
    "bedrock/",
    "chat_completions/",
    "converse/",
    "invoke/",
    "openai/",
    "mantle/",
    "nova-2/",
    "nova/",
)

# get_model_info rewrites these names before looking anything up (litellm.azure_llms etc.).
_AZURE_NAME_REWRITES = {
    "gpt-35-turbo": "azure/gpt-35-turbo",
    "gpt-35-turbo-instruct": "azure/gpt-35-turbo-instruct",
    "azure/gpt-41": "gpt-4.1",
    "azure/gpt-41-mini": "gpt-4.1-mini",
    "azure/gpt-41-nano": "gpt-4.1-nano",
    "ada": "azure/ada",
}

_ANTHROPIC_TEXT_MODELS = frozenset({"claude-2", "claude-instant-1"})
_FIREWORKS_ROUTER_NAMES = frozenset({"firerouter", "auto", "auto-instant"})
_REPLICATE_VERSION_ID_LENGTH = 64

# Bare-name recognition in get_llm_provider is a chain of list checks; the first list that holds
# the name decides. Lists are filled from the cost map by ``litellm_provider`` (the table below,
# as rank → provider decided) plus a few names LiteLLM hard-codes (``_BUILTIN_BARE_NAMES``).
_RANK_REPLICATE = 6  # the replicate check sits between cohere_chat and openrouter
_BARE_RANK_BY_ENTRY_PROVIDER: dict[str, tuple[int, str]] = {
    "openai": (1, "openai"),
    "text-completion-openai": (2, "text-completion-openai"),
    "anthropic": (3, "anthropic"),
    "cohere": (4, "cohere"),
    "cohere_chat": (5, "cohere_chat"),
    "openrouter": (7, "openrouter"),
    **{
        f"vertex_ai-{kind}": (9, "vertex_ai")
        for kind in (
            "chat-models",
            "code-chat-models",
            "text-models",
            "code-text-models",
            "language-models",
            "embedding-models",
            "vision-models",
            "image-models",
            "video-models",
        )
    },
    "ai21": (10, "ai21_chat"),
    "aleph_alpha": (11, "aleph_alpha"),
    "baseten": (12, "baseten"),
    "nlp_cloud": (13, "nlp_cloud"),
    "bedrock": (15, "bedrock"),
    "bedrock_converse": (15, "bedrock"),
    "watsonx": (16, "watsonx"),
    "gradient_ai": (19, "gradient_ai"),
}
_BUILTIN_BARE_NAMES: dict[str, tuple[int, str]] = {
    "sora-2": (1, "openai"),
    **dict.fromkeys(
        """
            embed-english-light-v2.0 embed-english-light-v3.0 embed-english-v2.0 embed-english-v3.0
            embed-multilingual-v2.0 embed-multilingual-v3.0 embed-v4.0
        """.split(),  # noqa: SIM905 - a compact data table
        (4, "cohere"),
    ),
    "maritalk": (8, "maritalk"),
    "petals-team/StableBeluga2": (14, "petals"),
    **dict.fromkeys(
        """
            amazon.nova-2-multimodal-embeddings-v1:0 amazon.titan-embed-text-v1 cohere.embed-english-v3
            cohere.embed-multilingual-v3 cohere.embed-v4:0 twelvelabs.marengo-embed-2-7-v1:0
            twelvelabs.marengo-embed-3-0-v1:0 qwen.qwen3-coder-480b-a35b-v1:0 qwen.qwen3-coder-next
            qwen.qwen3-235b-a22b-2507-v1:0 qwen.qwen3-coder-30b-a3b-v1:0 qwen.qwen3-32b-v1:0
            deepseek.v3-v1:0 deepseek.v3.2 openai.gpt-oss-20b-1:0 openai.gpt-oss-120b-1:0
            anthropic.claude-haiku-4-5-20251001-v1:0 anthropic.claude-sonnet-4-5-20250929-v1:0
            anthropic.claude-fable-5-1 anthropic.claude-fable-5 anthropic.claude-sonnet-5
            anthropic.claude-opus-5 anthropic.claude-opus-4-8 anthropic.claude-opus-4-7
            anthropic.claude-opus-4-6-v1:0 anthropic.claude-opus-4-6-v1 anthropic.claude-sonnet-4-6
            anthropic.claude-opus-4-1-20250805-v1:0 anthropic.claude-opus-4-20250514-v1:0
            anthropic.claude-sonnet-4-20250514-v1:0 anthropic.claude-3-7-sonnet-20250219-v1:0
            anthropic.claude-3-5-haiku-20241022-v1:0 anthropic.claude-3-5-sonnet-20241022-v2:0
            anthropic.claude-3-5-sonnet-20240620-v1:0 anthropic.claude-3-opus-20240229-v1:0
            anthropic.claude-3-sonnet-20240229-v1:0 anthropic.claude-3-haiku-20240307-v1:0
            anthropic.claude-v2 anthropic.claude-v2:1 anthropic.claude-v1 anthropic.claude-instant-v1
            ai21.jamba-instruct-v1:0 ai21.jamba-1-5-mini-v1:0 ai21.jamba-1-5-large-v1:0
            meta.llama3-70b-instruct-v1:0 meta.llama3-8b-instruct-v1:0 meta.llama3-1-8b-instruct-v1:0
            meta.llama3-1-70b-instruct-v1:0 meta.llama3-1-405b-instruct-v1:0
            mistral.mistral-large-2407-v1:0 mistral.mistral-large-2402-v1:0
            mistral.mistral-small-2402-v1:0 meta.llama3-2-1b-instruct-v1:0
            meta.llama3-2-3b-instruct-v1:0 meta.llama3-2-11b-instruct-v1:0
            meta.llama3-2-90b-instruct-v1:0 amazon.nova-lite-v1:0 amazon.nova-2-lite-v1:0
            amazon.nova-2-pro-preview-20251202-v1:0 amazon.nova-pro-v1:0 writer.palmyra-x4-v1:0
            writer.palmyra-x5-v1:0 minimax.minimax-m2.1 moonshotai.kimi-k2.5
        """.split(),  # noqa: SIM905 - a compact data table
        (15, "bedrock"),
    ),
    "text-embedding-ada-002": (17, "openai"),
    "empower/empower-functions": (18, "empower"),
    "empower/empower-functions-small": (18, "empower"),
    "*": (20, "openai"),
}
# Checked after every list, in this order (``amazon_nova`` has no slash in LiteLLM either).
_BARE_PREFIX_PROVIDERS = (
    ("bytez/", "bytez"),
    ("gdc/", "gdc"),
    ("lemonade/", "lemonade"),
    ("heroku/", "heroku"),
    ("cometapi/", "cometapi"),
    ("oci/", "oci"),
    ("compactifai/", "compactifai"),
    ("ovhcloud/", "ovhcloud"),
    ("clarifai/", "clarifai"),
    ("amazon_nova", "amazon_nova"),
    ("sap/", "sap"),
)

_NOT_A_MODEL = frozenset({"sample_spec", "fallback_generalizations"})
_GENERALIZATIONS_KEY = "fallback_generalizations"

_VERTEX_VERSION_SUFFIX = re.compile(r"-\d+$")
_DATE_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_FINETUNE_SUFFIX = re.compile(r"(:[^:]*){3}$")
_BEDROCK_THROUGHPUT_SUFFIX = re.compile(r"(:\d+):\d+k$")
_BEDROCK_CONTEXT_SUFFIX = re.compile(r"\[\w+\]$")
_BEDROCK_REGION_KEY = re.compile(r"^bedrock/[a-zA-Z0-9_-]+/.+$")

# Names for the seven lookup candidates of PRICING.md §6.2, in lookup order.
_CANDIDATE_RULES = (
    "provider/model",
    "as given",
    "region-free provider/model",
    "prefix stripped",
    "provider/stripped",
    "stripped",
    "provider-prefixed",
)


@dataclass(frozen=True, slots=True)
class MapMatch:
    """What ``get_model_info`` resolved a model string to.

    ``key`` is the cost-map key LiteLLM reports (its ``model_info["key"]``). When ``in_map`` is
    False there is no such entry: LiteLLM synthesised one with no prices (a fallback
    generalization rule, or Ollama / Lemonade / Hugging Face runtime info), so a call prices at
    0.0 rather than raising, and ``key`` is the name LiteLLM reports for it.
    """

    key: str
    provider: str
    rule: str
    in_map: bool = True


class GeneralizationRules:
    """The cost map's ``fallback_generalizations`` rules: routing rules name a provider for an unknown name,
    capability rules describe an unmapped one (with no prices). Compiled on first use: most lookups never reach
    a rule, and start-up stays cheap."""

    def __init__(self, model_cost: Mapping[str, Mapping]) -> None:
        self._raw_rules = _rules_of(model_cost)
        self._compiled: tuple[list[tuple[re.Pattern, str]], list[tuple[re.Pattern, str]]] | None = None

    def provider_for(self, model: str) -> str | None:
        """The provider of the first routing rule matching ``model``."""
        for pattern, provider in self._rules()[0]:
            if pattern.search(model):
                return provider
        return None

    def capabilities(self, name: str) -> list[str]:
        """The names of the capability rules matching ``name``."""
        return [rule_name for pattern, rule_name in self._rules()[1] if pattern.search(name)]

    def _rules(self) -> tuple[list[tuple[re.Pattern, str]], list[tuple[re.Pattern, str]]]:
        if self._compiled is None:
            routing: list[tuple[re.Pattern, str]] = []
            capability: list[tuple[re.Pattern, str]] = []
            for rule in self._raw_rules:
                compiled = _compile_rule(rule)
                if compiled is None:
                    continue
                pattern, info = compiled
                if "litellm_provider" in info:
                    routing.append((pattern, info["litellm_provider"]))
                else:
                    capability.append((pattern, str(rule.get("name", rule["pattern"]))))
            self._compiled = (routing, capability)
        return self._compiled


class ProviderDecider:
    """LiteLLM's ``get_llm_provider`` over one cost map: the provider it decides for a model string, from the
    provider prefix, the bare-name lists the map fills (by ``litellm_provider``), and the routing rules."""

    def __init__(self, entries: Mapping[str, Mapping], rules: GeneralizationRules) -> None:
        self._entries = entries
        self._rules = rules
        self._alias_target: dict[str, str] = {}
        bare: dict[str, tuple[int, str]] = dict(_BUILTIN_BARE_NAMES)
        cohere_chat: set[str] = set()
        mistral: set[str] = set()
        ai21_chat: set[str] = set()
        for key, entry in entries.items():
            if isinstance(entry, _AliasEntry):
                self._alias_target[key] = entry.owner
            provider = entry.get("litellm_provider")
            if provider is None:
                continue
            if provider == "cohere_chat":
                cohere_chat.add(key)
            elif provider == "mistral":
                mistral.add(key)
            elif provider == "ai21" and entry.get("mode") == "chat":
                ai21_chat.add(key)
            ranked = _BARE_RANK_BY_ENTRY_PROVIDER.get(provider)
            if ranked is None or not _listed_for_bare_names(key, entry, provider):
                continue
            name = (
                key.replace("vertex_ai/", "") if provider.endswith(("image-models", "video-models")) else key
            )
            if name not in bare or ranked[0] < bare[name][0]:
                bare[name] = ranked
        self._bare = bare
        self._cohere_chat = frozenset(cohere_chat)
        self._mistral = frozenset(mistral)
        self._ai21_chat = frozenset(ai21_chat)

    def decide(self, model: str, provider: str | None) -> tuple[str, str] | None:
        """(model, provider) in get_llm_provider's order, or None where it raises."""
        if not model:
            return None
        declared = _declared_provider(model, provider)
        if declared in _AUTHENTICATING_PROVIDERS:
            return model.removeprefix(f"{declared}/"), declared
        resolved = self._llm_provider_steps(model, provider)
        if resolved is None:
            return None
        name, decided = resolved
        return self._resolve_latest_alias(name, decided), decided

    def _llm_provider_steps(self, model: str, provider: str | None) -> tuple[str, str] | None:
        head, slash, tail = model.partition("/")
        # Azure AI Studio serves cohere and mistral models through the OpenAI route.
        if head == "azure" and slash and (tail in self._cohere_chat or f"mistral/{tail}" in self._mistral):
            return model, "openai"

        if provider == "cohere" and model in self._cohere_chat:
            provider = "cohere_chat"
        elif slash and head == "cohere" and tail in self._cohere_chat:
            model, provider = tail, "cohere_chat"
        elif provider == "anthropic" and model in _ANTHROPIC_TEXT_MODELS:
            provider = "anthropic_text"
        elif slash and head == "anthropic" and tail in _ANTHROPIC_TEXT_MODELS:
            model, provider = tail, "anthropic_text"

        if provider and model.split("/")[0] != provider:
            model = f"{provider}/{model}"
        if provider == "openrouter" and model.startswith("openrouter/"):
            rest = model[len("openrouter/") :]
            return (rest if "/" in rest else model), provider

        head, slash, tail = model.partition("/")
        if head in PROVIDER_PREFIXES:
            if not slash:
                return None  # a bare provider name: LiteLLM fails splitting it
            if head == "bedrock_mantle":
                tail = _strip_mantle_region(tail)
            elif head == "ai21" and tail in self._ai21_chat:
                head = "ai21_chat"
            elif head == "ragflow":
                # ragflow/{chat|agent}/{id}/{model}; LiteLLM rejects any other shape
                parts = model.split("/")
                if len(parts) < 4 or parts[1] not in ("chat", "agent"):
                    return None
                tail = model
            return tail, head
        # Not a known prefix: the provider lists decide, else a provider that was passed in (whose
        # unknown name then stays on the model), else a routing rule of the cost map.
        decided = self._listed_provider(model) or provider or self._rules.provider_for(model)
        return None if decided is None else (model, decided)

    def _listed_provider(self, model: str) -> str | None:
        rank, provider = self._bare.get(model, (99, ""))
        if rank == 1 or "ft:gpt-3.5-turbo" in model or "ft:gpt-4" in model or model.startswith("gpt-image"):
            return "openai"
        if rank < _RANK_REPLICATE:
            if provider == "anthropic" and model in _ANTHROPIC_TEXT_MODELS:
                return "anthropic_text"
            return provider
        if ":" in model and len(model) > _REPLICATE_VERSION_ID_LENGTH:
            # A replicate version id; any other long name with a colon ends the list checks.
            # (LiteLLM's own replicate_models list holds only names with such an id.)
            version = model.split(":")[1]
            return "replicate" if len(version) == _REPLICATE_VERSION_ID_LENGTH else None
        if provider:
            return provider
        for prefix, prefixed_provider in _BARE_PREFIX_PROVIDERS:
            if model.startswith(prefix):
                return prefixed_provider
        return None

    def _resolve_latest_alias(self, model: str, provider: str) -> str:
        for name in (f"{provider}/{model}", model):
            target = self._alias_target.get(name)
            if target is None:
                continue
            head, slash, _ = name.partition("/")
            if slash and head in _ENUM_PROVIDERS:
                alias_provider = head
            else:
                alias_provider = self._entries[name].get("litellm_provider")
            if alias_provider == provider:
                return target.removeprefix(f"{provider}/")
        return model


class ModelIndex:
    """Name lookups over one cost map. Build once, then call ``provider_of`` / ``find``.

    ``model_cost`` is the cost map as LiteLLM's JSON file holds it: ``alias_of`` rows and
    ``aliases`` lists are served as their target's entry (LiteLLM's alias expansion), the
    ``fallback_generalizations`` block supplies routing and capability rules, and
    ``sample_spec`` is ignored.
    """

    def __init__(self, model_cost: Mapping[str, Mapping]) -> None:
        entries = _expand_aliases(model_cost)
        self._entries: dict[str, Mapping] = entries
        # Later keys win on a case clash, as in LiteLLM's lower-case map.
        self._lower: dict[str, str] = {key.lower(): key for key in entries}
        vertex_llama: set[str] = set()
        vertex_at_latest: set[str] = set()
        for key, entry in entries.items():
            provider = entry.get("litellm_provider")
            if provider == "vertex_ai-llama_models":
                vertex_llama.add(key.replace("vertex_ai/", ""))
            elif provider in ("vertex_ai-mistral_models", "vertex_ai-ai21_models"):
                vertex_at_latest.add(key.replace("vertex_ai/", ""))
        self._vertex_llama = frozenset(vertex_llama)
        self._vertex_at_latest = frozenset(vertex_at_latest)
        self._rules = GeneralizationRules(model_cost)
        self.providers = ProviderDecider(entries, self._rules)

    # --- public API ---------------------------------------------------------------------------

    def provider_of(self, model: str, provider: str | None = None) -> tuple[str, str] | None:
        """(provider, model without provider prefix) as LiteLLM's get_llm_provider decides, or None
        where it raises (unknown bare names, wrong case, a bare provider name).

        The model part is what get_llm_provider returns: ``-latest`` aliases are resolved to their
        target, ``bedrock_mantle`` drops a region path, ``azure/<cohere or mistral model>`` keeps its
        whole name under provider ``openai``. For ``github_copilot`` / ``chatgpt`` the declared
        provider is adopted as LiteLLM's metadata lookups do (get_llm_provider would start a login).
        """
        resolved = self.providers.decide(model, provider or None)
        return None if resolved is None else (resolved[1], resolved[0])

    def find(self, model: str, provider: str | None = None, *, lenient: bool = False) -> MapMatch | None:
        """The entry LiteLLM's get_model_info(model, custom_llm_provider=provider) returns, or None
        where it raises (ModelNotMappedError).

        With a provider this is get_model_info exactly; ``vertex_ai_beta`` is read as
        ``vertex_ai``. Without one, the provider is first decided as ``provider_of`` does, and a
        name it rejects gives None: a priced call (completion_cost) raises BadRequestError for it,
        e.g. ``GPT-4O`` or ``gemini-9-pro``. get_model_info on its own goes on with no provider and
        then matches any entry case-insensitively (``GPT-4O`` → ``gpt-4o``) or by a capability
        rule; ``lenient=True`` gives that answer, with ``provider`` set to the entry's own
        ``litellm_provider`` ("" when there is none).
        """
        if not model:
            return None
        if provider == "vertex_ai_beta":
            provider = "vertex_ai"
        if not provider:
            provider = None
        if provider is None and not lenient:
            declared = _declared_provider(model, None)
            if declared not in _AUTHENTICATING_PROVIDERS and self.providers.decide(model, None) is None:
                return None
        return self._get_model_info(model, provider)

    def registration_fallback(self, key: str) -> MapMatch | None:
        """The map row a key gets its prices from when LiteLLM registers it but cannot resolve it
        (utils._resolve_builtin_model_cost_entry with no provider): the key itself, the key behind its provider
        prefixes, then Bedrock route, geo-prefix and suffix stripping, under the provider the key's prefix
        names. None: the key is registered with no prices at all."""
        segments = key.split("/")
        provider = segments[0] if len(segments) > 1 and segments[0] in _ENUM_PROVIDERS else ""
        count = next((i for i, s in enumerate(segments[:-1]) if s not in _ENUM_PROVIDERS), len(segments) - 1)
        prefix_stripped = tuple("/".join(segments[i:]) for i in range(1, count + 1))
        base = prefix_stripped[-1] if prefix_stripped else key
        if provider in ("bedrock", "bedrock_converse"):
            base = _strip_bedrock_route(base)
        geo_stripped = tuple(base[len(p):] for p in _REGISTRATION_GEO_PREFIXES if base.startswith(p))
        stripped = _strip_suffixes(base, provider) if provider else base
        for name in (key, *prefix_stripped, base, *geo_stripped, stripped):
            entry = self._entries.get(name)
            if entry is not None and entry.get("litellm_provider") is not None \
                    and _provider_matches(entry.get("litellm_provider"), provider):
                return MapMatch(key=name, provider=provider or _entry_provider(entry), rule="registered backend row")
        return None

    def suggest(self, model: str, n: int = 3) -> list[str]:
        """Closest cost-map keys for a "did you mean" hint (case-insensitive)."""
        wanted = model.lower()
        close = difflib.get_close_matches(wanted, self._lower.keys(), n=n, cutoff=0.6)
        if len(close) < n and "/" in wanted:
            tail = wanted.split("/", 1)[1]
            for extra in difflib.get_close_matches(tail, self._lower.keys(), n=n, cutoff=0.6):
                if extra not in close:
                    close.append(extra)
        return [self._lower[name] for name in close[:n]]

    def entry(self, key: str) -> Mapping | None:
        """The entry LiteLLM serves under ``key`` (an alias row gives its target's entry)."""
        return self._entries.get(key)

    # --- get_model_info -----------------------------------------------------------------------

    def _get_model_info(self, model: str, provider: str | None) -> MapMatch | None:
        given = model
        model = _AZURE_NAME_REWRITES.get(model, model)
        if provider == "vertex_ai":
            if f"meta/{model}" in self._vertex_llama:
                model = f"meta/{model}"
            elif f"{model}@latest" in self._vertex_at_latest:
                model = f"{model}@latest"
        provider, candidates = self._candidates(model, provider or _declared_auth_provider(model))

        runtime = self._runtime_model_info(model, provider)
        if runtime is not None:
            return runtime

        for rule, name in zip(_CANDIDATE_RULES, candidates):
            exact = name in self._entries
            key = name if exact else self._lower.get(name.lower())
            if key is None or not _provider_matches(self._entries[key].get("litellm_provider"), provider):
                continue
            if name == given:
                label = "as given"
            elif rule == "prefix stripped" and name == given.partition("/")[2]:
                label = rule  # only the provider prefix was removed (the name may equal the stripped one too)
            elif name == candidates[5]:
                label = "stripped"  # also when no provider prefix went into "provider/stripped"
            else:
                label = rule
            return MapMatch(
                key=key,
                provider=provider if provider is not None else _entry_provider(self._entries[key]),
                rule=label if exact else f"case-insensitive match of '{label}'",
            )
        return self._generalized(candidates, provider)

    def _candidates(self, model: str, provider: str | None) -> tuple[str | None, tuple[str, ...]]:
        """The provider the lookup runs under and its seven names, in _CANDIDATE_RULES order."""
        if provider is None:
            resolved = self.providers.decide(model, None)
            split, provider = (model, None) if resolved is None else resolved
            combined = prefixed = model
            stripped = combined_stripped = _strip_suffixes(model, provider)
        elif model.startswith(f"{provider}/"):
            split = model.split("/", 1)[1]
            combined = model
            stripped = _strip_suffixes(split, provider)
            combined_stripped = f"{provider}/{stripped}"
            prefixed = f"{provider}/{model}"
        else:
            split = model
            combined = prefixed = f"{provider}/{model}"
            stripped = _strip_suffixes(model, provider)
            combined_stripped = f"{provider}/{stripped}"

        if provider in ("bedrock", "bedrock_converse"):
            region_free = _split_bedrock_region(split)
            split = (
                _bedrock_arn_name(region_free)
                if region_free.startswith("arn:")
                else _strip_bedrock_route(split)
            )
        region_free_combined = combined
        if provider == "bedrock_mantle":
            split = _strip_mantle_region(split)
            combined_stripped = f"bedrock_mantle/{_strip_suffixes(split, provider)}"
            region_free_combined = f"bedrock_mantle/{split}"
        if provider == "fireworks_ai":
            prefixed = f"fireworks_ai/{_fireworks_resource_name(split)}"
        return provider, (combined, model, region_free_combined, split, combined_stripped, stripped, prefixed)

    def _runtime_model_info(self, model: str, provider: str | None) -> MapMatch | None:
        """Providers whose model info LiteLLM asks a server for before reading the map."""
        if provider in ("ollama", "ollama_chat"):
            bare = model.split("/", 1)[1] if model.startswith(("ollama/", "ollama_chat/")) else model
            names = (model, bare, f"ollama/{bare}", f"ollama_chat/{bare}")
            if any(name.lower() in self._lower for name in names):
                return None  # a mapped Ollama model is priced from the map
            return MapMatch(key=bare, provider=provider, rule="ollama runtime info (no prices)", in_map=False)
        if provider == "lemonade":
            return MapMatch(
                key=f"lemonade/{model.removeprefix('lemonade/')}",
                provider=provider,
                rule="lemonade runtime info (no prices)",
                in_map=False,
            )
        if provider == "huggingface":
            return MapMatch(key=model, provider=provider, rule="huggingface (no prices)", in_map=False)
        return None

    def _generalized(self, names: tuple[str, ...], provider: str | None) -> MapMatch | None:
        """LiteLLM's capability rules for an unmapped name: they carry no prices (cost 0.0)."""
        if any(name.lower() in self._lower for name in names):
            return None  # an exact entry exists under another provider: rules must not shadow it
        for name in names:
            matched = self._rules.capabilities(name)
            if matched:
                return MapMatch(
                    key=name,
                    provider=provider or "",
                    rule=f"generalization {', '.join(matched)} (no prices)",
                    in_map=False,
                )
        return None


# --- cost map preparation ---------------------------------------------------------------------


class _AliasEntry(dict):
    """An entry served under an alias name; ``owner`` is the key it was copied from."""

    __slots__ = ("owner",)

    def __init__(self, entry: Mapping, owner: str) -> None:
        super().__init__(entry)
        self.owner = owner


def _expand_aliases(model_cost: Mapping[str, Mapping]) -> dict[str, Mapping]:
    """The map LiteLLM serves: alias rows become their owner's entry, non-models are dropped."""
    pointers = {
        name: entry["alias_of"]
        for name, entry in model_cost.items()
        if isinstance(entry, Mapping) and isinstance(entry.get("alias_of"), str)
    }
    owners: dict[str, str] = {}
    for name, entry in model_cost.items():
        aliases = entry.get("aliases") if isinstance(entry, Mapping) else None
        if not isinstance(aliases, list) or name in pointers:
            continue
        for alias in aliases:
            if (alias in model_cost and alias not in pointers) or alias in owners:
                continue
            owners[alias] = name
    for alias, target in pointers.items():
        if target in model_cost and target not in pointers and alias not in owners:
            owners[alias] = target

    entries: dict[str, Mapping] = {}
    for name, entry in model_cost.items():
        if name in _NOT_A_MODEL or not isinstance(entry, Mapping):
            continue
        if name in pointers and name not in owners:
            continue  # an alias pointing nowhere is dropped
        if "aliases" in entry:
            entry = {k: v for k, v in entry.items() if k != "aliases"}
        entries[name] = entry
    for alias, owner in owners.items():
        entries[alias] = _AliasEntry(entries[owner], owner)
    return entries


def _listed_for_bare_names(key: str, entry: Mapping, provider: str) -> bool:
    """Whether LiteLLM puts this key into its provider model list (see __init__.py)."""
    if provider == "openai":
        return not (key.startswith("ft:") and key.count(":") <= 1)
    if provider == "bedrock":
        return (
            entry.get("mode") != "guardrail"
            and "month-commitment" not in key
            and not (_BEDROCK_REGION_KEY.match(key))
        )
    # LiteLLM also hides retired baseten models, by today's date; every baseten key carries its
    # "baseten/" prefix, which is decided before any list is read, so that never matters here.
    return True


def _rules_of(model_cost: Mapping[str, Mapping]) -> list[Mapping]:
    block = model_cost.get(_GENERALIZATIONS_KEY)
    rules = block.get("rules") if isinstance(block, Mapping) else None
    return [rule for rule in rules if isinstance(rule, Mapping)] if isinstance(rules, list) else []


def _compile_rule(rule: Mapping) -> tuple[re.Pattern, Mapping] | None:
    """A usable rule's (pattern, model_info); malformed or old-format rules are skipped as in LiteLLM."""
    pattern, info = rule.get("pattern"), rule.get("model_info")
    if not isinstance(pattern, str) or not isinstance(info, Mapping) or "extends" in rule:
        return None
    fill = rule.get("fill_missing_for_providers", [])
    if not isinstance(fill, (list, tuple)) or not all(isinstance(p, str) for p in fill):
        return None
    if "litellm_provider" in info and (not isinstance(info["litellm_provider"], str) or len(info) != 1):
        return None
    try:
        return re.compile(pattern, re.IGNORECASE), info
    except re.error:
        return None


# --- name helpers -----------------------------------------------------------------------------


def _declared_provider(model: str, provider: str | None) -> str | None:
    return provider or (model.split("/", 1)[0] if "/" in model else None)


def _declared_auth_provider(model: str) -> str | None:
    declared = _declared_provider(model, None)
    return declared if declared in _AUTHENTICATING_PROVIDERS else None


def _entry_provider(entry: Mapping) -> str:
    provider = entry.get("litellm_provider")
    return provider if isinstance(provider, str) else ""


def _provider_matches(entry_provider: object, provider: str | None) -> bool:
    """_check_provider_match: an entry belongs to the requested provider, or is shared with it."""
    if not provider or entry_provider is None or entry_provider == provider:
        return True
    entry_provider = str(entry_provider)
    if provider in ("vertex_ai", "fireworks_ai") and entry_provider.startswith(provider):
        return True
    if provider.startswith("bedrock") and entry_provider.startswith("bedrock"):
        return True
    if provider == "azure_ai":
        return entry_provider in ("azure", "openai")
    return provider in ("litellm_proxy", "github", "nadir")


def _strip_suffixes(model: str, provider: str | None) -> str:
    """The name without the parts LiteLLM's map leaves out (version, date, fine-tune, region)."""
    if provider in ("bedrock", "bedrock_converse"):
        return _bedrock_base_model(model)
    if provider in ("vertex_ai", "gemini", "databricks"):
        return _VERTEX_VERSION_SUFFIX.sub("", model)
    if "ft:" in model:
        return _FINETUNE_SUFFIX.sub("", model)
    return _DATE_SUFFIX.sub("", model)


def _strip_bedrock_route(model: str) -> str:
    for prefix in _BEDROCK_ROUTE_PREFIXES:
        if model.startswith(prefix):
            model = model.split("/", 1)[1]
    return model


def _split_bedrock_region(model: str) -> str:
    stripped = _strip_bedrock_route(model)
    region, slash, rest = stripped.partition("/")
    return rest if slash and region in _BEDROCK_REGIONS else stripped


def _bedrock_arn_name(model: str) -> str:
    return model.split("/")[-1] if "arn" in model.lower() else model


def _bedrock_base_model(model: str) -> str:
    for route in ("bedrock/converse/", "bedrock/", "converse/"):
        if model.startswith(route):
            spec = model[len(route) :]
            break
    else:
        spec = model
    if spec.startswith("nova-2/"):
        return "amazon.nova-2-custom"
    if spec.startswith("nova/"):
        return "amazon.nova-custom"
    model = _bedrock_arn_name(_strip_bedrock_route(model))
    model = _BEDROCK_CONTEXT_SUFFIX.sub("", _BEDROCK_THROUGHPUT_SUFFIX.sub(r"\1", model))
    geo, dot, rest = model.partition(".")
    if dot and geo in _BEDROCK_GEO_PREFIXES:
        return rest
    region, slash, rest = model.partition("/")
    if slash and region in _BEDROCK_REGIONS:
        return rest
    return model


def _strip_mantle_region(model: str) -> str:
    region, slash, rest = model.partition("/")
    return rest if slash and region in _BEDROCK_REGIONS else model


def _fireworks_resource_name(model: str) -> str:
    name = model.removeprefix("fireworks_ai/")
    if name.startswith(("accounts/", "FW-")) or "#" in name:
        return name
    if name.startswith(("routers/", "models/")):
        return f"accounts/fireworks/{name}"
    if name.endswith("-fast") or name in _FIREWORKS_ROUTER_NAMES or name.startswith("firerouter/"):
        return f"accounts/fireworks/routers/{name}"
    return f"accounts/fireworks/models/{name}"
