"""Rates: what a call costs per token, second or request, and where each rate comes from.

Owns the public cost map (embedded snapshot, files, refresh), the proxy config, LiteLLM's model-name lookup,
and resolution: a model name (+ deployment id, + per-request prices) → a PriceSheet with every field's source.
Imports nothing of costcalc but ``errors``: it is the bottom layer.
"""
