"""Reports: what users read. Aggregation and totals, the renderers (table, json, jsonl, csv, markdown, html),
``lookup``/``models`` explanations, ``diff``, ``validate``, ``reconcile`` and the library's ``build_report``.

May import every layer below (engines, reading, pricing, rates, errors); never the CLI.
"""
