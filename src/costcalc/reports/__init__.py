"""Reports: what users read. Aggregation and totals, the renderers (table, json, jsonl, csv, markdown, html),
``lookup``/``models`` explanations, ``diff``, ``validate`` and ``reconcile``.

May import every layer below (engines, reading, pricing, rates, errors); never the CLI.
"""
