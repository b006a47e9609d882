"""The public cost map: loading it (embedded snapshot, a file, the env var, the user cache) and finding models in it."""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import CostMapError
from .config import MAX_PRICE, is_price_key
from .fields import ABOVE_THRESHOLD, MODEL_INFO_FIELDS

if TYPE_CHECKING:
    from .modelname import MapMatch, ModelIndex

ENV_VAR = "COSTCALC_COST_MAP"
CACHE_FILE_NAME = "cost_map.json"
MAX_MAP_BYTES = 64 << 20  # LiteLLM's map is about 1.5 MB


def cache_dir() -> Path:
    """Where `costcalc map update` keeps a refreshed map (XDG cache directory)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "costcalc"


@dataclass(frozen=True, slots=True)
class CostMapInfo:
    """Where the prices came from: stamped into every JSON report so it can be reproduced."""

    source: str
    litellm_version: str | None
    snapshot_date: str | None
    sha256: str
    models: int
    path: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "litellm_version": self.litellm_version,
            "snapshot_date": self.snapshot_date,
            "sha256": self.sha256,
            "models": self.models,
            "path": self.path,
        }


class CostMap:
    """A LiteLLM-format cost map: model key → entry, with LiteLLM's name-lookup rules on top."""

    def __init__(self, entries: dict[str, dict[str, Any]], info: CostMapInfo):
        self.entries = entries
        self.info = info
        self._found: dict[tuple[str, str | None], MapMatch | None] = {}

    @cached_property
    def index(self) -> ModelIndex:
        from .modelname import ModelIndex

        return ModelIndex(self.entries)

    def find(self, model: str, provider: str | None = None) -> MapMatch | None:
        """The entry LiteLLM's ``get_model_info(model, provider)`` would use, or None (cached per name).

        A match LiteLLM synthesises without any entry (a generalisation rule, Ollama runtime info) is None
        here: LiteLLM would price it at $0, costcalc reports it unpriced."""
        key = (model, provider)
        try:
            return self._found[key]
        except KeyError:
            match = self.index.find(model, provider)
            if match is not None and not match.in_map:
                match = None
            self._found[key] = match
            return match

    def provider_of(self, model: str, provider: str | None = None) -> tuple[str, str] | None:
        return self.index.provider_of(model, provider)

    def entry(self, key: str) -> dict[str, Any]:
        """The entry served under ``key``: an ``alias_of`` row gives its target's entry."""
        found = self.index.entry(key)
        return dict(found) if found is not None else self.entries.get(key, {})

    def suggest(self, model: str, n: int = 3) -> list[str]:
        return self.index.suggest(model, n)

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def __len__(self) -> int:
        return len(self.entries)


def parse_cost_map(raw: bytes, where: str) -> dict[str, dict[str, Any]]:
    """Validate the shape of a LiteLLM cost map; ``sample_spec`` is documentation and is dropped."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CostMapError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CostMapError(f"{where}: a cost map must be a JSON object keyed by model name")
    entries = {k: v for k, v in data.items() if k != "sample_spec" and isinstance(v, dict)}
    if not entries:
        raise CostMapError(f"{where}: no model entries found")
    if not any("input_cost_per_token" in v or "litellm_provider" in v for v in entries.values()):
        raise CostMapError(f"{where}: does not look like a LiteLLM cost map (no litellm_provider/prices)")
    for key, entry in entries.items():
        if key != "fallback_generalizations":
            _check_entry(entry, f"{where}: {key}")
    return entries


def _check_entry(entry: dict[str, Any], where: str) -> None:
    """Raise CostMapError for an entry that cannot be priced sensibly: a price that is not a finite number from
    0 to ``MAX_PRICE``, a malformed ``tiered_pricing``, a provider, mode or alias of the wrong type."""
    for field in ("litellm_provider", "mode", "alias_of"):
        value = entry.get(field)
        if value is not None and not isinstance(value, str):
            raise CostMapError(f"{where}: {field} must be a string")
    aliases = entry.get("aliases")
    if aliases is not None and not (isinstance(aliases, list) and all(isinstance(a, str) for a in aliases)):
        raise CostMapError(f"{where}: aliases must be a list of model names")
    for field, value in entry.items():
        if value is None or not _is_rate_field(field):
            continue
        if field == "tiered_pricing":
            if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
                raise CostMapError(f"{where}: tiered_pricing must be a list of tiers")
            for n, tier in enumerate(value):
                for name, rate in tier.items():
                    if name == "range":
                        if not (isinstance(rate, list) and len(rate) == 2):
                            raise CostMapError(f"{where}: tiered_pricing[{n}].range must be [start, end]")
                        for bound in rate:
                            _check_price(bound, f"{where}: tiered_pricing[{n}].range", None)
                    elif rate is not None and not isinstance(rate, (dict, list)):
                        _check_price(rate, f"{where}: tiered_pricing[{n}].{name}", MAX_PRICE)
        elif field == "search_context_cost_per_query":
            if not isinstance(value, dict):
                raise CostMapError(f"{where}: {field} must be an object of prices")
            for name, rate in value.items():
                _check_price(rate, f"{where}: {field}.{name}", MAX_PRICE)
        elif field != "off_peak_pricing":
            _check_price(value, f"{where}: {field}", MAX_PRICE)


# Fields the cost formulas read are checked; fields that never reach them (PRICING.md §2.6) cannot misprice, so a
# newer map with new kinds of fields still loads.
def _is_rate_field(field: str) -> bool:
    return is_price_key(field) and (field in MODEL_INFO_FIELDS or ABOVE_THRESHOLD.search(field) is not None)


def _check_price(value: Any, where: str, limit: float | None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CostMapError(f"{where}: price must be a number, got {type(value).__name__}")
    if not 0 <= value <= (limit if limit is not None else math.inf) or math.isnan(value):
        raise CostMapError(f"{where}: price must be a finite number from 0 to {limit or math.inf:g}, got {value:g}")


def _embedded() -> CostMap:
    data = resources.files("costcalc").joinpath("data")
    raw = data.joinpath("cost_map.json").read_bytes()
    meta = orjson.loads(data.joinpath("cost_map.meta.json").read_bytes())
    entries = orjson.loads(raw)
    info = CostMapInfo(
        source=meta["source"],
        litellm_version=meta.get("litellm_version"),
        snapshot_date=meta.get("snapshot_date"),
        sha256=meta["sha256"],
        models=len(entries),
        path="(embedded)",
    )
    return CostMap(entries, info)


def _from_file(path: Path) -> CostMap:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_MAP_BYTES + 1)  # bounded: the path may be /dev/zero
    except OSError as exc:
        raise CostMapError(f"{path}: cannot read cost map ({exc.strerror})") from None
    if len(raw) > MAX_MAP_BYTES:
        raise CostMapError(f"{path}: larger than {MAX_MAP_BYTES >> 20} MB; not a cost map")
    entries = parse_cost_map(raw, str(path))
    meta_path = path.with_name(path.name + ".meta.json")
    meta: dict[str, Any] = {}
    if meta_path.exists():
        try:
            with open(meta_path, "rb") as fh:
                meta = orjson.loads(fh.read(1 << 20))
        except (OSError, orjson.JSONDecodeError):
            meta = {}
        if not isinstance(meta, dict):
            meta = {}
    info = CostMapInfo(
        source=meta.get("source", str(path)),
        litellm_version=meta.get("litellm_version"),
        snapshot_date=meta.get("snapshot_date"),
        sha256=hashlib.sha256(raw).hexdigest(),
        models=len(entries),
        path=str(path),
    )
    return CostMap(entries, info)


def load_cost_map(path: str | os.PathLike[str] | None = None) -> CostMap:
    """The map to price with: ``path``, else $COSTCALC_COST_MAP, else the cached refresh, else the snapshot."""
    if path is None:
        path = os.environ.get(ENV_VAR) or None
    if path is not None:
        return _from_file(Path(path))
    cached = cache_dir() / CACHE_FILE_NAME
    if cached.is_file():
        return _from_file(cached)
    return _embedded()
