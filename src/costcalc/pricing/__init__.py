"""Pricing: PriceSheet × token counts → cost, LiteLLM 1.110.2's formulas (PRICING.md §2–§5) and nothing else.

May import ``rates`` (the PriceSheet it prices) and ``errors``; never reading, engines, reports or the CLI.
"""
