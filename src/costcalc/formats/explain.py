"""``--explain``: how each record's cost was reached, as text, or as JSON (``json``: one array; ``jsonl``: a line
each), written as records are priced. ``line``: only that input line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any


@dataclass
class Explanations:
    engine: Any
    kind: str  # "text", "json" or "jsonl"
    line: int | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"last": 0, "count": 0})

    @property
    def one_stream(self) -> bool:
        return self.kind == "json"  # one JSON array: its commas need the records in one stream

    def _wanted(self, o: Any) -> bool:
        number = getattr(o, "line", None)
        if number is None:
            number = o.record.line
        self.counts["last"] = max(self.counts["last"], number)
        return self.line is None or number == self.line

    def writer(self) -> Any:
        if self.kind == "text":
            from ..reports.render import explain_record
            from ..reports.run import text_writer

            def explain_lines(outcomes: Any, out: Any, first: bool) -> None:
                for o in outcomes:
                    if self._wanted(o):
                        out.write(explain_record(self.engine, o) + "\n")
                        self.counts["count"] += 1

            return text_writer(explain_lines)
        import orjson

        from ..reports.render import explain_dict

        def explain_json(outcomes: Any, out: Any, first: bool) -> None:
            for o in outcomes:
                if self._wanted(o):
                    doc = orjson.dumps(explain_dict(self.engine, o))
                    if self.kind == "json":
                        out.write(b"[\n" if not self.counts["count"] else b",\n")
                    out.write(doc)
                    if self.kind == "jsonl":
                        out.write(b"\n")
                    self.counts["count"] += 1

        return explain_json

    def missing_line(self) -> str | None:
        """Why nothing was explained, when one line was asked for and the input has no such line."""
        if self.line is not None and not self.counts["count"]:
            return f"{self.line}: no such line (the input's last line is {self.counts['last']:,})"
        return None

    def finish(self, out: IO[bytes]) -> None:
        if self.kind == "json":
            out.write(b"\n]\n" if self.counts["count"] else b"[]\n")
