"""``costcalc diff``: the config's prices against the cost map; with ``--against``, against another config, the
usage priced by the same pipeline as ``price`` under each (de-duplicated, windowed and filtered alike), and with
``--replay-budgets`` LiteLLM's budget enforcement replayed under each."""

from __future__ import annotations

import shutil
import sys
import tempfile
from contextlib import ExitStack
from typing import Any

import typer

from ...formats.registry import choices, write_document
from .. import options as o
from ..app import PlainCommand, app
from ..output import Output

AGAINST = typer.Option(None, "--against", metavar="CURRENT", help="Compare --config (new) with this config "
                       "(current) instead of the cost map: rates, effective rates and spend under both.")


@app.command(cls=PlainCommand)
def diff(
    usage: list[str] = typer.Argument(None, help="Usage JSONL files to re-price under the config and under the "
                                      "bare cost map ('-' for stdin)."),
    config: str = typer.Option(..., "--config", "-c", help="LiteLLM proxy config.yaml.", metavar="CFG"),
    cost_map: str | None = o.COST_MAP,
    fmt: o.format_choice("diff") = o.format_option("diff"),  # type: ignore[valid-type]
    against: str | None = AGAINST,
    since: str | None = o.SINCE, until: str | None = o.UNTIL, month: str | None = o.MONTH,
    tz: str = o.TZ, where: list[str] | None = o.WHERE, dedupe: bool = o.DEDUPE,
    decimals: int | None = o.DECIMALS, replay_budgets: str | None = o.REPLAY_BUDGETS,
) -> None:
    """The config's custom prices against the cost map, field by field; with usage, spend under each."""
    from ...reports.diff import diff_doc, render_diff, write_diff_csv, write_diff_markdown
    from ...reports.money import fixed_decimals

    cm, cfg = o.load(cost_map, config)
    with ExitStack() as stack:
        stack.enter_context(fixed_decimals(decimals))
        out = Output(None, stack)
        if against is None:
            o.check_window_options("--against", since=since, until=until, month=month, where=where,
                                   replay_budgets=replay_budgets)
            write_document(fmt.value, diff_doc(cm, cfg, usage or ()), out, render_diff, csv=write_diff_csv,
                           markdown=write_diff_markdown)
            return
        from ...reports.whatif import render_whatif

        if fmt.value not in choices("diff --against"):
            raise typer.BadParameter(f"--against writes {' or '.join(choices('diff --against'))}",
                                     param_hint="--format")
        paths = _spool_stdin(list(usage or ()), stack)
        if replay_budgets is not None and not paths:
            raise typer.BadParameter("replays the usage: give usage files", param_hint="--replay-budgets")
        window = {"since": since, "until": until, "month": month, "tz": tz, "where": where or (), "dedupe": dedupe,
                  "budget_file": replay_budgets}
        write_document(fmt.value, _whatif(cm, cfg, config, against, paths, cost_map, window), out, render_whatif)


def _whatif(cm: Any, cfg: Any, config: str, against: str, paths: list[str], cost_map: str | None,
            window: dict[str, Any]) -> dict[str, Any]:
    """The --against document: rates under both configs, and the usage priced twice by the price pipeline."""
    from ...rates.config import load_config
    from ...reports.pipeline import run
    from ...reports.request import config_path
    from ...reports.whatif import whatif_doc

    current = load_config(o.library_call(config_path, against))
    spend = replays = None
    if paths:
        new_run, current_run = (o.library_call(run, o.request(paths, config=c, cost_map=cost_map, **window))
                                for c in (config, against))
        spend = (new_run.report, current_run.report)
        if window["budget_file"] is not None:
            replays = (new_run.sections.budget_replay, current_run.sections.budget_replay)
    return whatif_doc(cm, cfg, current, spend, replays)


def _spool_stdin(paths: list[str], stack: ExitStack) -> list[str]:
    """Standard input, kept in a temporary file: the pipeline reads the usage once per config."""
    if "-" not in paths:
        return paths
    spool = stack.enter_context(tempfile.NamedTemporaryFile(prefix="costcalc-stdin-", suffix=".jsonl"))  # noqa: SIM115
    shutil.copyfileobj(sys.stdin.buffer, spool)
    spool.flush()
    return [spool.name if p == "-" else p for p in paths]
