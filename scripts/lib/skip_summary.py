"""Print the skipped tests of pytest junit reports, grouped by reason: count and suite per reason.

Usage: python skip_summary.py LABEL=REPORT.xml [LABEL=REPORT.xml ...]

scripts/test.sh runs pytest quietly; without this a skip (missing data, PyPI unreachable, ...) would
show only as a number in the totals.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

# Reasons can quote a whole error message; the summary is for reading at a glance.
MAX_REASON_CHARS = 160


def skip_reasons(report: Path) -> list[str]:
    """The reason of every skipped test case in one junit report (empty if it cannot be read)."""
    try:
        # Reports written moments ago by our own pytest run, not input from elsewhere.
        root = ET.parse(report).getroot()  # noqa: S314
    except (OSError, ET.ParseError):
        return []
    reasons = []
    for case in root.iter("testcase"):
        skipped = case.find("skipped")
        if skipped is None:
            continue
        reason = (skipped.get("message") or skipped.text or "no reason given").strip()
        # pytest writes "Skipped: <reason>" for pytest.skip() and skip markers alike.
        reason = reason.removeprefix("Skipped: ")
        reason = " ".join(reason.split())
        if len(reason) > MAX_REASON_CHARS:
            reason = reason[: MAX_REASON_CHARS - 1] + "…"
        reasons.append(reason)
    return reasons


def summary_lines(reports: list[tuple[str, Path]]) -> list[str]:
    counts: Counter[tuple[str, str]] = Counter()
    for label, report in reports:
        counts.update((reason, label) for reason in skip_reasons(report))
    if not counts:
        return ["skipped: none"]
    width = max(len(label) for _, label in counts)
    lines = ["skipped, by reason (count  suite  reason):"]
    by_reason: dict[str, list[tuple[str, int]]] = {}
    for (reason, label), count in counts.items():
        by_reason.setdefault(reason, []).append((label, count))
    # Most frequent reason first; suites in the order they ran.
    order = [label for label, _ in reports]
    for reason, suites in sorted(by_reason.items(), key=lambda item: -sum(c for _, c in item[1])):
        for label, count in sorted(suites, key=lambda suite: order.index(suite[0])):
            lines.append(f"  {count:5d}  {label:<{width}}  {reason}")
    return lines


def main(arguments: list[str]) -> int:
    reports = []
    for argument in arguments:
        label, separator, path = argument.partition("=")
        if not separator:
            print(f"expected LABEL=REPORT.xml, got {argument!r}", file=sys.stderr)
            return 2
        reports.append((label, Path(path)))
    print("\n".join(summary_lines(reports)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
