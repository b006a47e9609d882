"""costcalc: price LLM usage exactly as a LiteLLM proxy would, offline.

The small public API::

    from costcalc import load_cost_map, load_config, PricingEngine, UsageRecord
    engine = PricingEngine(load_cost_map(), load_config("config.yaml"))
    outcome = engine.price(UsageRecord(file="-", line=1, model="gpt-4o", prompt_tokens=1000, completion_tokens=500))
    outcome.cost.total  # 0.0075
"""

__version__ = "0.1.0"

from .config import Deployment, ProxyConfig, load_config
from .costmap import CostMap, load_cost_map
from .engine import NotPriced, Priced, PricingEngine
from .errors import ConfigError, CostcalcError, CostMapError, UsageInputError
from .pricing import Cost, Pricer
from .resolve import PriceSheet, Resolver, Unpriced
from .usage import Rejected, Skipped, UsageRecord, read_usage

__all__ = [
    "ConfigError", "Cost", "CostMap", "CostMapError", "CostcalcError", "Deployment", "Discrepancy", "NotPriced",
    "PriceSheet",
    "Priced", "Pricer", "PricingEngine", "ProxyConfig", "Rejected", "Resolver", "Skipped", "Unpriced",
    "UsageInputError", "UsageRecord", "load_config", "load_cost_map", "read_usage", "reconcile",
]
