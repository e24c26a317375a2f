"""Reports: run directories as one HTML page of charts and episodes (``vlthink report``), and
the leaderboard CSVs as Markdown and HTML (``vlthink leaderboard render``)."""

from vlthink.report.report import build_report
from vlthink.report.runs import ReportError, load_runs

__all__ = ["build_report", "load_runs", "ReportError"]
