"""Formats: how a priced run is written. One registry (``registry.FORMATS``) declares every format once: which
commands offer it, its writer, what it needs the pipeline to compute, and which report sections it shows.

May import reports and every layer below; never the CLI. Heavy modules (rich) are imported inside writers.
"""
