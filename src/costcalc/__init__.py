"""costcalc: price LLM usage exactly as a LiteLLM proxy would, offline.

The small public API::

    from costcalc import load_cost_map, load_config, PricingEngine, UsageRecord
    engine = PricingEngine(load_cost_map(), load_config("config.yaml"))
    outcome = engine.price(UsageRecord(file="-", line=1, model="gpt-4o", prompt_tokens=1000, completion_tokens=500))
    outcome.cost.total  # 0.0075
"""

from .engines.streaming import NotPriced, Priced, PricingEngine
from .errors import ConfigError, CostcalcError, CostMapError, UsageInputError
from .pricing.formulas import Cost, Pricer
from .rates.config import Deployment, ProxyConfig, load_config
from .rates.costmap import CostMap, load_cost_map
from .rates.resolve import Resolver
from .rates.sheets import PriceSheet, Unpriced
from .reading.jsonl import read_usage
from .reading.records import Rejected, Skipped, UsageRecord
from .version import __version__

__all__ = [
    "ConfigError",
    "Cost",
    "CostMap",
    "CostMapError",
    "CostcalcError",
    "Deployment",
    "Discrepancy",
    "NotPriced",
    "PriceSheet",
    "Priced",
    "Pricer",
    "PricingEngine",
    "ProxyConfig",
    "Rejected",
    "Resolver",
    "Skipped",
    "Unpriced",
    "UsageInputError",
    "UsageRecord",
    "__version__",
    "load_config",
    "load_cost_map",
    "read_usage",
    "reconcile",
]
