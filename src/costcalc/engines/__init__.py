"""Engines: records in, outcomes out. The streaming Python engine (the reference every other engine is held
against), its parallel planner, and the run that drives a report from files.

May import ``reading``, ``pricing``, ``rates`` and ``errors``; never reports or the CLI.
"""
