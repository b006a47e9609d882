"""Price history: each record priced with the proxy config in force at its timestamp.

``--config 2026-10-01=old.yaml --config 2026-11-01=new.yaml`` gives configs that take effect at those times
(a date is its midnight UTC); a record is priced by the newest one that took effect at or before its timestamp.
A record before the first date, or without a timestamp, is priced by the undated ``--config`` when one is given
and is otherwise rejected with the reason (and counted as rejected, so ``--strict`` fails on it).

``DatedConfigEngine`` stands in for a ``PricingEngine``: ``price`` picks the engine, and ``pricer`` answers for
the record priced last (per-record writers ask right after pricing each record, in one stream).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..rates.config import ProxyConfig
from ..rates.costmap import CostMap
from ..reading.records import LineResult, Rejected, UsageRecord
from .streaming import NotPriced, Outcome, Priced, PricingEngine


@dataclass(frozen=True)
class DatedConfig:
    start: float | None  # epoch seconds the config takes effect; None: the undated fallback
    since: str  # the date as given ("2026-10-01"), or "" for the fallback
    config: ProxyConfig

    @property
    def label(self) -> str:
        return f"{self.since}={self.config.path}" if self.since else self.config.path


class DatedConfigEngine:
    def __init__(self, cost_map: CostMap, dated: list[DatedConfig], fallback: DatedConfig | None = None):
        self.cost_map = cost_map
        self.dated = sorted(dated, key=lambda d: d.start or 0.0)
        self.fallback = fallback
        self._starts = [d.start or 0.0 for d in self.dated]
        self._engines = [PricingEngine(cost_map, d.config) for d in self.dated]
        self._fallback_engine = PricingEngine(cost_map, fallback.config) if fallback is not None else None
        self.config = fallback.config if fallback is not None else ProxyConfig.empty()
        self._pricers: dict[tuple[Any, ...], Any] = {}  # never filled: every record goes through ``price``
        self.warnings: dict[str, str] = {}
        self._seen = [0] * (len(self._engines) + 1)
        self._current: PricingEngine | None = None
        self.current_label: str | None = None

    def _pick(self, record: UsageRecord) -> tuple[int, PricingEngine | None, str | None]:
        if record.timestamp is not None:
            i = bisect.bisect_right(self._starts, record.timestamp) - 1
            if i >= 0:
                return i, self._engines[i], self.dated[i].label
        if self._fallback_engine is not None and self.fallback is not None:
            return len(self._engines), self._fallback_engine, self.fallback.label
        return -1, None, None

    def price(self, record: UsageRecord) -> Priced | NotPriced | Rejected:
        i, engine, label = self._pick(record)
        if engine is None:
            self._current, self.current_label = None, None
            first = self.dated[0].since
            why = ("no timestamp" if record.timestamp is None else f"before the first dated --config ({first})")
            self.warnings.setdefault(f"records before the first dated --config ({first}) or without a timestamp "
                                     "are rejected: give an undated --config to price them", "--config")
            return Rejected(record.file, record.line, f"{why} and no undated --config to price it with", b"",
                            record.model)
        self._current, self.current_label = engine, label
        outcome = engine.price(record)
        if len(engine.warnings) != self._seen[i]:
            for w, where in engine.warnings.items():
                self.warnings.setdefault(f"{label}: {w}", where)
            self._seen[i] = len(engine.warnings)
        return outcome

    def pricer(self, model: str, model_id: str | None = None, service_tier: str | None = None,
               request_prices: tuple[tuple[str, float], ...] = ()) -> Any:
        engine = self._current or self._fallback_engine or self._engines[0]
        return engine.pricer(model, model_id, service_tier, request_prices)

    def explaining_pricer(self, o: Priced) -> Any:
        engine = self._current or self._fallback_engine or self._engines[0]
        return engine.explaining_pricer(o)

    def outcomes(self, results: Iterable[LineResult]) -> Iterator[Outcome]:
        price = self.price
        for r in results:
            yield price(r) if r.__class__ is UsageRecord else r  # type: ignore[misc]

    def describe(self) -> list[dict[str, Any]]:
        out = [{"from": d.since, "config": d.config.path} for d in self.dated]
        if self.fallback is not None:
            out.insert(0, {"from": None, "config": self.fallback.config.path})
        return out


def merge_config_warnings(warnings: Iterable[str], labels: Iterable[str]) -> list[str]:
    """Each warning once: the same text that several configs gave (``a.yaml: w`` and ``b.yaml: w``) becomes
    ``a.yaml, b.yaml: w``; texts that differ stay apart, each with its config."""
    labels = sorted(labels, key=len, reverse=True)
    by_text: dict[str, list[str]] = {}
    for w in warnings:
        label = next((lb for lb in labels if w.startswith(lb + ": ")), None)
        text = w[len(label) + 2:] if label is not None else w
        owners = by_text.setdefault(text, [])
        if label is not None and label not in owners:
            owners.append(label)
    return sorted(f"{', '.join(owners)}: {text}" if owners else text for text, owners in by_text.items())
