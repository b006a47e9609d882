"""Rates: what a call costs per token, second or request, and where each rate comes from.

Owns the public cost map (``costmap``, ``mapupdate``: embedded snapshot, files, refresh), the proxy config
(``config``), LiteLLM's model-name lookup (``modelname``) and resolution: a model name (+ deployment id,
+ per-request prices) → a PriceSheet with every field's source (``resolve`` over ``routing``, ``registration``,
``naming``, ``costfunctions``, ``requestprices`` and ``sheets``).
Imports nothing of costcalc but ``errors``: it is the bottom layer.
"""
