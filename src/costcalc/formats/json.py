"""``--format json``: the report as one JSON document (schema in the README)."""

from __future__ import annotations

from typing import Any


def write(result: Any, out: Any, style: Any) -> None:
    from ..reports.render import write_json

    write_json(result.as_dict(), out.binary())


def write_document(doc: dict[str, Any], out: Any) -> None:
    """Another command's document (lookup, models, diff, validate, map)."""
    from ..reports.render import write_json

    write_json(doc, out.binary())
