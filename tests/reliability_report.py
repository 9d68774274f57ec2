"""Fault figures: the fault tests record them, this module turns them into docs/reliability.md.

Each fault test adds one row through the `fault_report` fixture (tests/integration/conftest.py);
rows go to the JSON file named by $RELIABILITY_REPORT, or under pytest's temporary directory,
so that an ordinary run writes nothing into the repository. Rendering runs no test:

    python -m tests.reliability_report reliability.json [--doc docs/reliability.md] [--status N]

replaces what lies between the fault-table markers in the document with the file's table
(`--status`: pytest's exit status, so that the table says whether the run passed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Not ARGUS_*: tests/conftest.py clears those so that a developer's settings stay out.
REPORT_ENV = "RELIABILITY_REPORT"
START = "<!-- fault-table:start -->"
END = "<!-- fault-table:end -->"
DOC = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"
COLUMNS = (
    "fault",
    "test",
    "injected",
    "records",
    "lost",
    "duplicated",
    "dead-lettered",
    "recovery (s)",
    "notes",
)


@dataclass(frozen=True)
class FaultRow:
    fault: str
    test: str
    injected: str
    records: int
    lost: int
    # None ("—" in the table): not measured by the test, or, for recovery_s, no fault end to
    # recover from (poison records are handled inline).
    duplicated: int | None
    dead_lettered: int | None
    recovery_s: float | None
    extra: dict[str, Any] = field(default_factory=dict)


def machine() -> dict[str, Any]:
    return {
        "host": socket.gethostname(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
    }


class FaultReport:
    """The rows of one pytest session, rewritten to `path` after each one: a run cut short
    still leaves the figures of the tests that got that far."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = datetime.now(UTC).isoformat(timespec="seconds")
        self.machine = machine()
        self.rows: list[FaultRow] = []

    def add(self, row: FaultRow) -> None:
        self.rows.append(row)
        doc = {
            "started": self.started,
            "machine": self.machine,
            "rows": [asdict(r) for r in self.rows],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(doc, indent=2) + "\n")


class FaultRecorder:
    """What a test sees as `fault_report`: its rows default to the test's own id."""

    def __init__(self, report: FaultReport, test: str) -> None:
        self._report = report
        self._test = test

    def add(
        self,
        *,
        fault: str,
        injected: str,
        records: int,
        lost: int,
        duplicated: int | None,
        dead_lettered: int | None,
        recovery_s: float | None,
        extra: dict[str, Any] | None = None,
        test: str | None = None,
    ) -> None:
        self._report.add(
            FaultRow(
                fault=fault,
                test=test or self._test,
                injected=injected,
                records=records,
                lost=lost,
                duplicated=duplicated,
                dead_lettered=dead_lettered,
                recovery_s=None if recovery_s is None else round(recovery_s, 1),
                extra=extra or {},
            )
        )

    def add_indexing(
        self,
        *,
        fault: str,
        injected: str,
        records: int,
        indexed: int,
        documents: int,
        dead_lettered: int | None,
        recovery_s: float | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """A fault on the path to the index: of `records`, `indexed` were found in it, which
        holds `documents` for them; what is missing was lost, what is more was doubled."""
        self.add(
            fault=fault,
            injected=injected,
            records=records,
            lost=records - indexed,
            duplicated=documents - indexed,
            dead_lettered=dead_lettered,
            recovery_s=recovery_s,
            extra=extra,
        )


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def render(report: dict[str, Any], status: int | None = None) -> str:
    """The Markdown between the markers: when and where the run was, how pytest ended (its
    exit `status`, when known), then one row per fault."""
    m = report["machine"]
    outcome = {None: "", 0: " All fault tests passed."}.get(
        status, f" Some fault tests failed (pytest exit status {status})."
    )
    lines = [
        f"Last run: {report['started']} on `{m['host']}` ({m['cpus']} CPUs, {m['platform']}, "
        f"Python {m['python']}).{outcome}",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in report["rows"]:
        notes = "; ".join(f"{k}: {_cell(v)}" for k, v in row["extra"].items())
        cells = [
            row["fault"],
            f"`{row['test']}`",
            row["injected"],
            row["records"],
            row["lost"],
            row["duplicated"],
            row["dead_lettered"],
            # A run that lost records did not recover: its figure is only how long it waited.
            f"not within {row['recovery_s']}"
            if row["lost"] and row["recovery_s"]
            else row["recovery_s"],
            notes or None,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def replace_table(text: str, table: str) -> str:
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the document needs {START} followed by {END}")
    return f"{text[: start + len(START)]}\n{table}\n{text[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="the JSON file the fault tests wrote")
    parser.add_argument("--doc", type=Path, default=DOC, help="default: docs/reliability.md")
    parser.add_argument("--status", type=int, help="pytest's exit status, to say how it ended")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text())
    args.doc.write_text(replace_table(args.doc.read_text(), render(report, args.status)))
    print(f"{args.doc}: {len(report['rows'])} faults from the run of {report['started']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
