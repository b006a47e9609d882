"""Reading usage: files (JSONL, gzip, stdin) and every log shape of SPEC §1.3 → normalised UsageRecords, each
with its file and line, or a rejection with its reason, or a skip.

Sits beside ``pricing``: may import ``rates`` (the list of per-request price fields) and ``errors``, never
pricing, engines, reports or the CLI.
"""
