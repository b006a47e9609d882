"""costcalc: price LLM usage exactly as a LiteLLM proxy would, offline.

The public API (the README's "Use from Python" runs this)::

    import costcalc
    result = costcalc.price("usage.jsonl", config=["a.yaml", "2026-11-16=b.yaml"], month="2026-11",
                            group_by=["team"], currency="EUR", fx_rate="0.92", budgets=["total:500"])
    result.report.totals.total, result.report.groups, result.sections.budgets, result.as_dict()

``price`` takes everything ``costcalc price`` does, as keywords (``PriceRequest``'s fields). One record or a
report with an engine of your own::

    engine = PricingEngine(load_cost_map(), load_config("config.yaml"))
    engine.price(UsageRecord(file="-", line=1, model="gpt-4o", prompt_tokens=1000, completion_tokens=500))
    report = build_report(["usage.jsonl"], engine)   # report.totals.total, report.groups, report.accounting

``engine.run(paths)`` yields one outcome per line (Priced, NotPriced, Rejected or Skipped); ``reconcile``
compares the spend a log recorded with the computed one.
"""

from typing import TYPE_CHECKING, Any

from .version import __version__

# The public names, by the module that defines each: imported when first used, so that `import costcalc` (every
# command, `costcalc --help` included) does not load the pricing, reading and report modules it may not need.
_WHERE = {
    "NotPriced": "engines.streaming", "Outcome": "engines.streaming", "Priced": "engines.streaming",
    "PricingEngine": "engines.streaming", "ConfigError": "errors", "CostcalcError": "errors",
    "CostMapError": "errors", "FieldError": "errors", "UsageInputError": "errors", "Cost": "pricing.formulas",
    "Deployment": "rates.config",
    "ProxyConfig": "rates.config", "load_config": "rates.config", "CostMap": "rates.costmap",
    "load_cost_map": "rates.costmap", "PriceSheet": "rates.sheets", "Unpriced": "rates.sheets",
    "read_usage": "reading.jsonl", "Rejected": "reading.records", "Skipped": "reading.records",
    "UsageRecord": "reading.records", "Accounting": "reports.aggregate", "Report": "reports.aggregate",
    "Totals": "reports.aggregate", "build_report": "reports.build", "PriceResult": "reports.pipeline",
    "price": "reports.pipeline", "Discrepancy": "reports.reconcile", "reconcile": "reports.reconcile",
    "PriceRequest": "reports.request",
}

if TYPE_CHECKING:
    from .engines.streaming import NotPriced, Outcome, Priced, PricingEngine
    from .errors import ConfigError, CostcalcError, CostMapError, FieldError, UsageInputError
    from .pricing.formulas import Cost
    from .rates.config import Deployment, ProxyConfig, load_config
    from .rates.costmap import CostMap, load_cost_map
    from .rates.sheets import PriceSheet, Unpriced
    from .reading.jsonl import read_usage
    from .reading.records import Rejected, Skipped, UsageRecord
    from .reports.aggregate import Accounting, Report, Totals
    from .reports.build import build_report
    from .reports.pipeline import PriceResult, price
    from .reports.reconcile import Discrepancy, reconcile
    from .reports.request import PriceRequest


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'costcalc' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "Accounting",
    "ConfigError",
    "Cost",
    "CostMap",
    "CostMapError",
    "CostcalcError",
    "Deployment",
    "Discrepancy",
    "FieldError",
    "NotPriced",
    "Outcome",
    "PriceRequest",
    "PriceResult",
    "PriceSheet",
    "Priced",
    "PricingEngine",
    "ProxyConfig",
    "Rejected",
    "Report",
    "Skipped",
    "Totals",
    "Unpriced",
    "UsageInputError",
    "UsageRecord",
    "__version__",
    "build_report",
    "load_config",
    "load_cost_map",
    "price",
    "read_usage",
    "reconcile",
]
