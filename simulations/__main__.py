"""Command line: ``python -m simulations generate --scenario demo --days 5 --seed 1 --out FILE.jsonl``."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfoNotFoundError

import click

from queue_board.core.events import parse_timezone, write_log
from simulations.branch_sim import SimulationError, simulate
from simulations.scenarios import SCENARIOS


def _zone(ctx: click.Context, param: click.Parameter, value: str) -> tzinfo:
    """Parse ``--tz`` (``+08:00`` or an IANA name) into a time zone."""
    try:
        zone = parse_timezone(value)
    except ZoneInfoNotFoundError:
        raise click.BadParameter(f"unknown time zone {value!r}; use e.g. +08:00 or Asia/Taipei") from None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if zone is None:
        raise click.BadParameter("a time zone is needed, e.g. +08:00")
    return zone


@click.group()
def main() -> None:
    """Simulated bank branches that drive the queue_board core."""


@main.command()
@click.option("--scenario", "name", type=click.Choice(sorted(SCENARIOS)), default="demo", show_default=True)
@click.option("--days", type=click.IntRange(min=1, max=3660), default=5, show_default=True, help="consecutive days")
@click.option("--seed", type=int, default=1, show_default=True, help="the same seed gives the same log")
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default="2026-03-02",
    show_default=True,
    help="first local day (YYYY-MM-DD)",
)
@click.option("--tz", "zone", default="+08:00", show_default=True, callback=_zone, help="UTC offset or IANA zone")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True),
    required=True,
    help="JSON Lines file to write ('-' = standard output)",
)
@click.option("--progress/--no-progress", default=False, help="show a progress bar on standard error")
def generate(name: str, days: int, seed: int, start: datetime, zone: tzinfo, out: str, progress: bool) -> None:
    """Simulate a branch and write its event log in the shared format."""
    first: date = start.date()
    try:
        log = simulate(SCENARIOS[name](), days, first, seed, zone, progress=progress)
    except SimulationError as exc:
        raise click.ClickException(f"simulation failed: {exc}") from None
    try:
        if out == "-":
            count = write_log(log, sys.stdout)
        else:
            with open(out, "w", encoding="utf-8") as handle:
                count = write_log(log, handle)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    issued = Counter(e.day for e in log if e.type == "ticket_issued")
    per_day = ", ".join(str(issued[d]) for d in sorted(issued))
    click.echo(
        f"wrote {count} events of scenario {name!r} ({days} days, tickets per day: {per_day}) to {out}", err=True
    )


if __name__ == "__main__":
    main()
