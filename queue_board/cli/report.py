"""``queue-board report``: the manager's history and forecast-quality tables as CSV, the same
numbers the pages and the API show (one :class:`~queue_board.service.reports.BranchReports`)."""

from __future__ import annotations

from pathlib import Path

import click

from queue_board.cli.maintenance import command_app
from queue_board.cli.options import database_option, fail
from queue_board.reports.history import Filters
from queue_board.service.errors import ProblemError
from queue_board.web.service import current_service


@click.command("report")
@click.argument("branch_id")
@click.option("--from", "start", default=None, help="first day, YYYY-MM-DD (default: 6 days before --to)")
@click.option("--to", "end", default=None, help="last day, YYYY-MM-DD (default: the branch's latest recorded day)")
@click.option("--target", default=None, help="service-level target in minutes (default: QB_SERVICE_LEVEL_TARGET_MINUTES)")
@click.option("--service", default=None, help="only this service")
@click.option("--counter", default=None, help="only this counter")
@click.option("--table", "tables", multiple=True, help="a table to write (repeatable; default: totals); see --list")
@click.option("--out", "out_path", default="-", type=click.Path(dir_okay=False, writable=True, allow_dash=True), help="CSV file (default: stdout)")
@click.option("--out-dir", default=None, type=click.Path(file_okay=False), help="write every table as <dir>/<branch>-<table>-<from>-<to>.csv")
@click.option("--list", "list_tables", is_flag=True, help="print the tables' names and exit")
@click.option(
    "--express",
    "express_minutes",
    default=None,
    help="instead, the express-counter analysis at these N minutes, e.g. 3,5,8 (docs/express-counter.md)",
)
@click.option("--express-counters", default=None, help="counters of the express what-if (default: each day's counters that served)")
@database_option
def report_command(
    branch_id: str,
    start: str | None,
    end: str | None,
    target: str | None,
    service: str | None,
    counter: str | None,
    tables: tuple[str, ...],
    out_path: str,
    out_dir: str | None,
    list_tables: bool,
    express_minutes: str | None,
    express_counters: str | None,
    database_url: str | None,
) -> None:
    """Write BRANCH_ID's report tables over a period as CSV."""
    with command_app(database_url):
        reports = current_service().reports
        if not current_service().branch_exists(branch_id):
            fail(f"no branch {branch_id!r}")
        if express_minutes is not None or express_counters is not None:
            try:
                _, express = reports.express(branch_id, start, end, minutes=express_minutes, counters=express_counters)
            except ProblemError as exc:
                fail(exc.message)
            with click.open_file(out_path, "w", encoding="utf-8") as out:
                out.write("\n".join(table.to_csv() for table in express.values()))
            return
        try:
            report = reports.period_report(branch_id, start, end, target=target, filters=Filters(service=service, counter=counter))
        except ProblemError as exc:
            fail(exc.message)
    found, period = report.tables, report.period
    if list_tables:
        click.echo("\n".join(found))
        return
    unknown = [name for name in tables if name not in found]
    if unknown:
        fail(f"no report table {', '.join(map(repr, unknown))}; expected one of {', '.join(found)}")
    if out_dir is not None:
        if out_path != "-" or tables:
            fail("--out-dir writes every table; leave out --out and --table")
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in found.items():
            path = folder / f"{branch_id}-{name}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
            path.write_text(table.to_csv(), encoding="utf-8")
        click.echo(f"wrote {len(found)} tables for {period.start}–{period.end} to {folder}", err=True)
        return
    chosen = tables or ("totals",)
    with click.open_file(out_path, "w", encoding="utf-8") as out:
        for index, name in enumerate(chosen):
            if index:
                out.write("\n")  # tables one after another, a blank line between
            out.write(found[name].to_csv())
