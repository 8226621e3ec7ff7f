"""A small scripted day whose every report figure is worked out by hand (tests/test_reports.py
checks them in the core, tests/test_manage.py through the API and the page).

2 March 2026, +08:00, counters 1 and 2 both serve A and B:

    09:00:00  both counters open
    09:01:00  A001 issued (told 0/60/120 s: "up to about 2 min")
    09:02:00  A002 issued (told 60/300/600 s: "about 1–10 min")
    09:02:00  counter 1 calls A001            A001 waited 60 s
    09:03:00  counter 1 starts A001
    09:03:00  counter 2 calls A002            A002 waited 60 s
    09:05:00  counter 2: A002 did not show
    09:08:00  counter 1 finishes A001         300 s transaction, wrap-up starts
    09:09:00  B001 issued (told 0/30/50 s: "under 1 min")
    09:10:00  counter 2 pauses: break, 10 min
    09:10:30  counter 1 calls B001            B001 waited 90 s: past "under 1 min" by 30 s
    09:11:00  counter 1 starts B001
    09:15:00  counter 1 transfers B001 to A   240 s transaction, wrap-up starts
    09:16:00  A003 issued (told 300/600/900 s: "about 5–15 min")
    09:25:00  counter 2 resumes               the pause ran 15 min: 5 min over
    09:25:00  counter 2 calls B001 (for A)
    09:26:00  counter 2 starts B001
    09:30:00  counter 2 finishes B001         240 s transaction
    09:33:00  counter 1 calls A003            A003 waited 17 min: past "about 5–15 min" by 2 min
    09:33:30  counter 1 starts A003
    09:40:00  counter 1 finishes A003         390 s transaction
    09:41:00  counter 1 closes (early)
    09:45:00  A004 issued (no promise in the log)
    09:50:00  A004 cancelled                  gave up after 5 min
    10:00:00  counter 2 closes

Counter 1, open 09:00–09:41 (2460 s): idle 120 + 900 = 1020, serving 360 + 270 + 420 = 1050,
wrap-up 150 + 180 + 60 = 390 (09:15–09:33 is 3 min of wrap-up, then idle). Utilisation
(1050 + 390) / 2460 = 0.585 of open time, the same of staffed time (no pause).

Counter 2, open 09:00–10:00 (3600 s): idle 180 + 300 + 1620 = 2100, serving 120 + 300 = 420,
wrap-up 180, paused 900. Utilisation 600 / 3600 = 0.167 of open time, 600 / 2700 = 0.222 of
staffed time.

Branch: 2040 busy of 6060 open (0.337) and of 5160 staffed (0.395) seconds.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from queue_board.core.events import Event, format_ts, parse_event

TZ = timezone(timedelta(hours=8))
DAY_START = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


def _at(clock: str) -> datetime:
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return DAY_START.replace(hour=hours, minute=minutes, second=seconds)


def _told(p10: float, p50: float, p90: float) -> dict[str, float]:
    return {"p10": p10, "p50": p50, "p90": p90}


#: (local time, type, fields) — the day above
SCRIPT: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("09:00:00", "counter_opened", {"counter": "1", "services": ["A", "B"]}),
    ("09:00:00", "counter_opened", {"counter": "2", "services": ["A", "B"]}),
    ("09:01:00", "ticket_issued", {"ticket": "A001", "service": "A", "told": _told(0, 60, 120)}),
    ("09:02:00", "ticket_issued", {"ticket": "A002", "service": "A", "told": _told(60, 300, 600)}),
    ("09:02:00", "ticket_called", {"ticket": "A001", "counter": "1"}),
    ("09:03:00", "service_started", {"ticket": "A001", "counter": "1"}),
    ("09:03:00", "ticket_called", {"ticket": "A002", "counter": "2"}),
    ("09:05:00", "ticket_no_show", {"ticket": "A002", "counter": "2"}),
    ("09:08:00", "service_finished", {"ticket": "A001", "counter": "1"}),
    ("09:09:00", "ticket_issued", {"ticket": "B001", "service": "B", "told": _told(0, 30, 50)}),
    ("09:10:00", "counter_paused", {"counter": "2", "reason": "break", "minutes": 10}),
    ("09:10:30", "ticket_called", {"ticket": "B001", "counter": "1"}),
    ("09:11:00", "service_started", {"ticket": "B001", "counter": "1"}),
    ("09:15:00", "ticket_transferred", {"ticket": "B001", "counter": "1", "service": "A"}),
    ("09:16:00", "ticket_issued", {"ticket": "A003", "service": "A", "told": _told(300, 600, 900)}),
    ("09:25:00", "counter_resumed", {"counter": "2"}),
    ("09:25:00", "ticket_called", {"ticket": "B001", "counter": "2"}),
    ("09:26:00", "service_started", {"ticket": "B001", "counter": "2"}),
    ("09:30:00", "service_finished", {"ticket": "B001", "counter": "2"}),
    ("09:33:00", "ticket_called", {"ticket": "A003", "counter": "1"}),
    ("09:33:30", "service_started", {"ticket": "A003", "counter": "1"}),
    ("09:40:00", "service_finished", {"ticket": "A003", "counter": "1"}),
    ("09:41:00", "counter_closed", {"counter": "1"}),
    ("09:45:00", "ticket_issued", {"ticket": "A004", "service": "A"}),
    ("09:50:00", "ticket_cancelled", {"ticket": "A004"}),
    ("10:00:00", "counter_closed", {"counter": "2"}),
)


def report_day_events() -> list[Event]:
    """The scripted day as events, in log order."""
    return [parse_event({"ts": format_ts(_at(clock)), "type": kind, **fields}) for clock, kind, fields in SCRIPT]


def report_day_lines() -> list[dict[str, Any]]:
    """The scripted day as JSON-ready log lines (for an import through the API)."""
    return [{"ts": format_ts(_at(clock)), "type": kind, **fields} for clock, kind, fields in SCRIPT]


def at(clock: str) -> float:
    """POSIX seconds of a local time of the day."""
    return _at(clock).timestamp()


def import_report_day(url: str, admin_headers: dict[str, str], branch: str) -> None:
    """Import the scripted day into ``branch`` of the server at ``url``, through the API as an admin."""
    body = "".join(json.dumps(line) + "\n" for line in report_day_lines())
    response = requests.post(
        f"{url}/api/v1/branches/{branch}/import",
        data=body.encode(),
        headers={**admin_headers, "Content-Type": "application/x-ndjson"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
