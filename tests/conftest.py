"""Shared fixtures. Every test is hermetic: no real cache directory, no env-selected map, no network."""

from __future__ import annotations

import os

# LiteLLM (the differential suite's reference) must never try the network for its cost map.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

from pathlib import Path
from typing import Any

import pytest

from costcalc.engines.streaming import PricingEngine
from costcalc.rates.config import load_config
from costcalc.rates.costmap import CostMap, CostMapInfo, load_cost_map
from costcalc.reading.records import UsageRecord

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def hermetic(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("COSTCALC_COST_MAP", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield
    # A Router built by the LiteLLM oracle registers prices globally: put LiteLLM back for the next test.
    import sys

    oracle = sys.modules.get("tests.litellm_oracle")
    if oracle is not None:
        oracle._reset_litellm_state()


def make_map(entries: dict[str, dict[str, Any]]) -> CostMap:
    """A cost map built inside a test, so its prices are visible next to the arithmetic."""
    info = CostMapInfo(source="test", litellm_version=None, snapshot_date=None, sha256="0" * 64,
                       models=len(entries), path="(test)")
    return CostMap(entries, info)


@pytest.fixture(scope="session")
def real_map() -> CostMap:
    """The embedded LiteLLM 1.110.2 snapshot."""
    return load_cost_map()


def write_config(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def engine_for(cost_map: CostMap, tmp_path: Path | None = None, config_text: str | None = None) -> PricingEngine:
    config = load_config(write_config(tmp_path, config_text)) if config_text is not None else None
    return PricingEngine(cost_map, config)


def record(model: str, **counts: Any) -> UsageRecord:
    return UsageRecord(file="test", line=1, model=model, **counts)


def cost_of(engine: PricingEngine, model: str, **counts: Any) -> float:
    outcome = engine.price(record(model, **counts))
    assert hasattr(outcome, "cost"), getattr(outcome, "reason", outcome)
    return outcome.cost.total


@pytest.fixture
def registering_router():
    """For a test that builds a LiteLLM Router: its construction registers the deployments' prices into LiteLLM's
    global cost map, put back as it was (tests/litellm_oracle.py's import-time snapshot) afterwards."""
    from .litellm_oracle import _reset_litellm_state  # its first import takes the snapshot: before the Router

    yield
    _reset_litellm_state()
