"""Pushes out of ``seq`` order, missed or replayed: every call is announced exactly once.

With two server processes behind Redis, pushes reach a board out of order (issue 12: 24–26 in
~730), and a board that announced each push's own event lost the call of the push that came late.
The boards now derive their announcements from the state they show (``static/js/calls.js``).
First the pure module, run in Chromium (the repository has no JS test runner), then the hall and
counter boards fed real pushes of a live server in a scrambled order, with one missing (no
resync needed: every push is the whole state), and across a reconnect.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
from conftest import LiveServer, ServerProcess, screen_context
from playwright import sync_api
from test_scale_out import two_processes  # noqa: F401  (a fixture: two processes joined by Redis)

pytestmark = pytest.mark.browser
expect = sync_api.expect

#: a short chime, and a speech engine that records what it says and takes 100 ms per utterance
INIT = """
window.queueBoardOptions = { offlineGraceMs: 1200, chimeMs: 50 };
window.__spoken = [];
Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
  getVoices: () => [],
  cancel() {},
  speak(utterance) {
    const record = { text: utterance.text, end: null };
    window.__spoken.push(record);
    setTimeout(() => { record.end = performance.now(); if (utterance.onend) utterance.onend(); }, 100);
  },
} });
"""
#: take the page's "board" pushes away from it: held in arrival order, handed over by `__deliver`;
#: a "sync" the page asks for is counted, and only sent to the server once `__passSync` is set
HOLD_PUSHES = """() => {
  const socket = window.queueBoardLive.socket;
  const handlers = socket.listeners("board");
  socket.off("board");
  window.__held = [];
  window.__syncs = 0;
  window.__passSync = false;
  socket.on("board", (board) => window.__held.push(board));
  window.__deliver = (indexes) => indexes.forEach((i) => handlers.forEach((handle) => handle(window.__held[i])));
  const emit = socket.emit.bind(socket);
  socket.emit = (name, ...args) => {
    if (name === "sync") {
      window.__syncs += 1;
      if (!window.__passSync) return socket;
    }
    return emit(name, ...args);
  };
}"""
#: run a CallLedger of calls.js over boards; what each board made due
RUN_LEDGER = """async ([boards, options]) => {
  const { CallLedger } = await import("/static/js/calls.js");
  const ledger = new CallLedger(options);
  return boards.map(([board, latest]) => ledger.take(board, latest).map((c) => [c.ticket, c.counter, c.recall]));
}"""

TZ = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 10, 0, 0, tzinfo=TZ)


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    with screen_context(browser, INIT) as ctx:
        yield ctx


def act(live: LiveServer, role: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = requests.post(f"{live.url}/api/v1/branches/main{path}", json=body, headers=live.tokens.auth(role), timeout=10)
    assert response.status_code == 201, (path, response.status_code, response.text)
    data: dict[str, Any] = response.json()
    return data


def act_apart(live: LiveServer, role: str, path: str) -> dict[str, Any]:
    """``act``, then leave the server time to push that change on its own: changes made during
    one forecast refresh reach the boards in one push, and these tests scramble pushes one by one."""
    data = act(live, role, path)
    time.sleep(0.3)
    return data


def take(live: LiveServer, service: str = "deposit") -> str:
    label: str = act(live, "kiosk", "/tickets", {"service": service})["ticket"]["ticket"]
    return label


def spoken_call(ticket: str, counter: str) -> str:
    return f"Ticket {' '.join(ticket)}, please go to counter {counter}."


def wait_until(page: Any, expression: str, timeout: float = 10.0) -> None:
    """Poll a JS expression until it is truthy (the pages' CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


def open_board(context: Any, live: LiveServer, path: str = "/board/hall") -> Any:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live.url}{path}?token={live.tokens.display}&lang=en")
    expect(page.locator("body")).to_have_attribute("data-connection", "live")
    expect(page.locator("body")).to_have_attribute("data-seq", re.compile(r"^\d+$"))
    page.errors = errors
    return page


def spoken_when_quiet(page: Any, expected: int, settle_ms: int = 1500) -> list[str]:
    """What the page said once it said ``expected`` things and then nothing more for a while."""
    # each announcement takes its chime, its utterance and a breath (~0.55 s here): twenty calls
    # queued at once take over ten seconds to say
    try:
        wait_until(
            page,
            f"window.__spoken.length >= {expected} && window.__spoken.every((s) => s.end !== null)",
            timeout=10.0 + expected * 0.6,
        )
    except AssertionError as timed_out:
        said: list[str] = page.evaluate("window.__spoken.map((s) => s.text)")
        raise AssertionError(f"{timed_out}; said {len(said)} of {expected}: {said}") from None
    page.wait_for_timeout(settle_ms)
    texts: list[str] = page.evaluate("window.__spoken.map((s) => s.text)")
    return texts


def held_seqs(page: Any, last_seq: int) -> list[int]:
    """The seqs of the pushes held so far, once the push of ``last_seq`` is among them."""
    wait_until(page, f"window.__held.some((b) => b.seq === {last_seq})")
    page.wait_for_timeout(300)  # the forecast refresh that follows the last event
    seqs: list[int] = page.evaluate("window.__held.map((b) => b.seq)")
    return seqs


def in_order_of(seqs: list[int], order: list[int]) -> list[int]:
    """Indexes of the held pushes, seq by seq in ``order`` (a seq's pushes in their arrival order)."""
    return [index for seq in order for index, held in enumerate(seqs) if held == seq]


# the pure module ---------------------------------------------------------------------------------
def board(seq: int, calls: list[tuple[str, str, str, int, int]], now_seconds: int = 60) -> dict[str, Any]:
    """A board at ``T0 + now_seconds`` whose now_serving holds ``(ticket, counter, status, called_at_seconds, recalls)``."""
    entries = [
        {"ticket": t, "counter": c, "status": s, "called_at": (T0 + timedelta(seconds=at)).isoformat(), "recalls": r}
        for t, c, s, at, r in sorted(calls, key=lambda call: -call[3])
    ]
    return {"seq": seq, "now": (T0 + timedelta(seconds=now_seconds)).isoformat(), "now_serving": entries}


@pytest.fixture
def module_page(context: Any, live_server: LiveServer) -> Any:
    """A page of the server's origin, so that calls.js can be imported into it."""
    page = context.new_page()
    page.goto(f"{live_server.url}/board/hall?token={live_server.tokens.display}&sound=off")
    return page


def run_ledger(page: Any, boards: list[tuple[dict[str, Any], str | None]], **options: Any) -> list[list[list[Any]]]:
    result: list[list[list[Any]]] = page.evaluate(RUN_LEDGER, [[list(pair) for pair in boards], options])
    return result


def test_the_first_state_primes_and_each_later_call_and_recall_is_due_once(module_page: Any) -> None:
    old = ("A001", "1", "serving", 0, 0)
    due = run_ledger(
        module_page,
        [
            (board(10, [old, ("A002", "2", "called", 30, 0)]), None),  # the page opens: the present, not news
            (board(12, [old, ("A002", "2", "called", 30, 0), ("A003", "1", "called", 50, 0), ("A004", "3", "called", 55, 0)]), "A004"),
            (board(12, [old, ("A002", "2", "called", 30, 0), ("A003", "1", "called", 50, 0), ("A004", "3", "called", 55, 0)]), None),
            (board(13, [old, ("A002", "2", "called", 30, 1), ("A003", "1", "called", 50, 0), ("A004", "3", "called", 55, 0)]), "A002"),
        ],
    )
    assert due == [
        [],
        [["A003", "1", False], ["A004", "3", False]],  # two calls of one state (the push of A003 came late): oldest first
        [],  # a forecast refresh of the same seq: nothing new
        [["A002", "2", True]],  # a recall of a call announced before the page opened
    ]


def test_the_push_s_own_event_is_announced_after_the_calls_it_brings_along(module_page: Any) -> None:
    due = run_ledger(
        module_page,
        [
            (board(1, []), None),
            (board(4, [("A001", "1", "called", 10, 1), ("A002", "2", "called", 20, 0)]), "A001"),
        ],
    )
    # A001 was called, A002 called, then A001 recalled (seq 4): the recall is the newest thing
    assert due == [[], [["A002", "2", False], ["A001", "1", True]]]


def test_a_counter_board_announces_only_its_own_counter(module_page: Any) -> None:
    due = run_ledger(
        module_page,
        [
            (board(1, []), None),
            (board(3, [("A001", "1", "called", 10, 0), ("A002", "2", "called", 20, 0)]), None),
            (board(4, [("A001", "1", "called", 10, 0), ("A002", "2", "called", 20, 1)]), "A002"),
        ],
        counter="2",
    )
    assert due == [[], [["A002", "2", False]], [["A002", "2", True]]]


def test_old_calls_and_customers_already_served_are_not_news(module_page: Any) -> None:
    due = run_ledger(
        module_page,
        [
            (board(1, [], now_seconds=0), None),
            (
                board(
                    9,
                    [
                        ("A001", "1", "called", 0, 0),  # called 5 min ago (the board was offline): stale
                        ("A002", "2", "serving", 200, 0),  # at the counter for a while: announcing would mislead
                        ("A003", "3", "serving", 290, 0),  # at the counter, but its call's push is 10 s late
                        ("A004", "4", "called", 295, 0),
                    ],
                    now_seconds=300,
                ),
                None,
            ),
            (board(10, [("A001", "1", "called", 0, 1), ("A004", "4", "called", 295, 0)], now_seconds=301), None),
        ],
    )
    assert due == [[], [["A003", "3", False], ["A004", "4", False]], []]


def test_a_call_is_never_said_twice_but_a_new_call_of_the_ticket_is_news(module_page: Any) -> None:
    called = ("A001", "1", "called", 10, 0)
    due = run_ledger(
        module_page,
        [
            (board(1, []), None),
            (board(2, [called]), None),
            (board(1, []), None),  # an older state shown after all (it never is: but if it were)
            (board(2, [called]), None),
            (board(3, []), None),  # transferred: back in a queue
            (board(5, [("A001", "2", "called", 40, 0)]), None),  # called again, to another counter
        ],
    )
    assert due == [[], [["A001", "1", False]], [], [], [], [["A001", "2", False]]]


def test_a_page_forgets_its_oldest_calls_first(module_page: Any) -> None:
    first, second, third = ("A001", "1", "called", 10, 0), ("A002", "2", "called", 20, 0), ("A003", "3", "called", 30, 0)
    due = run_ledger(
        module_page,
        [
            (board(1, []), None),
            (board(2, [first]), None),
            (board(3, [first, second]), None),
            (board(4, [second, third]), None),
            (board(5, [first, second, third]), None),
        ],
        remember=2,
    )
    # remembering two calls, A001 was forgotten when A003 came: shown again, it is news again
    assert due == [[], [["A001", "1", False]], [["A002", "2", False]], [["A003", "3", False]], [["A001", "1", False]]]


# the boards, fed real pushes -----------------------------------------------------------------------
def test_the_hall_announces_every_call_once_when_pushes_arrive_out_of_order(live_server: LiveServer, context: Any) -> None:
    for counter in ("1", "2", "3", "4"):
        act(live_server, "admin", f"/counters/{counter}/open")
    a, b, c, d = (take(live_server, service) for service in ("deposit", "deposit", "deposit", "loan"))
    hall = open_board(context, live_server)
    start = int(hall.evaluate("document.body.dataset.seq"))
    hall.evaluate(HOLD_PUSHES)
    first = act_apart(live_server, "teller1", "/counters/1/call-next")["seq"]
    act_apart(live_server, "teller2", "/counters/2/call-next")
    act_apart(live_server, "teller1", "/counters/1/recall")
    act_apart(live_server, "admin", "/counters/3/call-next")
    last = act_apart(live_server, "admin", "/counters/4/call-next")["seq"]
    assert first == start + 1 and last == start + 5
    seqs = held_seqs(hall, last)
    # each pair swapped: the call of a (and then the recall) arrives after the next push
    order = [first + 1, first, first + 3, first + 2, first + 4]
    hall.evaluate("(indexes) => window.__deliver(indexes)", in_order_of(seqs, order))
    spoken = spoken_when_quiet(hall, 5)
    assert spoken == [spoken_call(a, "1"), spoken_call(b, "2"), spoken_call(a, "1"), spoken_call(c, "3"), spoken_call(d, "4")]
    assert hall.evaluate("document.body.dataset.seq") == str(last)
    assert hall.evaluate("window.__syncs") == 0, "a jump in seq is the whole state: no resync"
    assert hall.errors == []


def test_a_missed_push_loses_no_call_and_nothing_is_said_twice(live_server: LiveServer, context: Any) -> None:
    for counter in ("1", "2", "3"):
        act(live_server, "admin", f"/counters/{counter}/open")
    a, b, c = (take(live_server) for _ in range(3))
    hall = open_board(context, live_server)
    hall.evaluate(HOLD_PUSHES)
    hall.evaluate("window.__passSync = true")
    first = act_apart(live_server, "teller1", "/counters/1/call-next")["seq"]
    second = act_apart(live_server, "teller2", "/counters/2/call-next")["seq"]
    seqs = held_seqs(hall, second)
    # the push of a's call never arrives; b's does, and its state holds a's call too
    hall.evaluate("(indexes) => window.__deliver(indexes)", in_order_of(seqs, [second]))
    spoken = spoken_when_quiet(hall, 2)
    assert spoken == [spoken_call(a, "1"), spoken_call(b, "2")]
    # the missing push turns up after all, with the snapshot and the pushes replayed: old news
    hall.evaluate("(indexes) => window.__deliver(indexes)", in_order_of(seqs, [first, second, first]))
    third = act_apart(live_server, "admin", "/counters/3/call-next")["seq"]
    seqs = held_seqs(hall, third)
    hall.evaluate("(indexes) => window.__deliver(indexes)", in_order_of(seqs, [third]))
    spoken = spoken_when_quiet(hall, 3)
    assert spoken == [spoken_call(a, "1"), spoken_call(b, "2"), spoken_call(c, "3")]
    assert hall.evaluate("window.__syncs") == 0
    assert hall.errors == []


def test_calls_made_while_a_board_was_offline_are_announced_once_on_reconnect(live_server: LiveServer, context: Any) -> None:
    for counter in ("1", "2", "3"):
        act(live_server, "admin", f"/counters/{counter}/open")
    a, b, c = (take(live_server) for _ in range(3))
    hall = open_board(context, live_server)
    act(live_server, "teller1", "/counters/1/call-next")
    spoken = spoken_when_quiet(hall, 1, settle_ms=300)
    hall.evaluate("window.queueBoardLive.socket.disconnect()")
    expect(hall.locator("body")).to_have_attribute("data-connection", "lost")
    act(live_server, "teller1", "/counters/1/recall")
    act(live_server, "teller2", "/counters/2/call-next")
    hall.evaluate("window.queueBoardLive.socket.connect()")
    expect(hall.locator("body")).to_have_attribute("data-connection", "live")
    spoken = spoken_when_quiet(hall, 3)
    # the reconnect's snapshot carried the recall and the new call; a's first call is not said again
    assert sorted(spoken[1:]) == sorted([spoken_call(a, "1"), spoken_call(b, "2")])
    assert spoken[0] == spoken_call(a, "1")
    act(live_server, "admin", "/counters/3/call-next")
    assert spoken_when_quiet(hall, 4)[3:] == [spoken_call(c, "3")]
    assert hall.errors == []


def test_a_counter_board_announces_its_own_calls_once_out_of_order(live_server: LiveServer, context: Any) -> None:
    for counter in ("1", "2"):
        act(live_server, "admin", f"/counters/{counter}/open")
    _a, _b, c = (take(live_server) for _ in range(3))
    board_page = open_board(context, live_server, "/board/counter/1")
    board_page.evaluate(HOLD_PUSHES)
    # apart: a push that held two of these changes would leave a's call with no push of its own
    first = act_apart(live_server, "teller1", "/counters/1/call-next")["seq"]
    act_apart(live_server, "teller2", "/counters/2/call-next")
    act_apart(live_server, "teller1", "/counters/1/no-show")
    last = act_apart(live_server, "teller1", "/counters/1/call-next")["seq"]
    assert last == first + 3
    seqs = held_seqs(board_page, last)
    # a's call and b's arrive after a was marked a no-show: by then a's call is old news, not said
    board_page.evaluate("(indexes) => window.__deliver(indexes)", in_order_of(seqs, [first + 2, first + 1, last, first]))
    assert spoken_when_quiet(board_page, 1) == [spoken_call(c, "1")]
    # in order, each call of this counter once
    second = act_apart(live_server, "teller1", "/counters/1/recall")["seq"]
    seqs = held_seqs(board_page, second)
    board_page.evaluate("(indexes) => window.__deliver(indexes)", in_order_of(seqs, [second]))
    assert spoken_when_quiet(board_page, 2) == [spoken_call(c, "1"), spoken_call(c, "1")]
    assert board_page.errors == []


# two processes and Redis, as at scale ----------------------------------------------------------------
def work_counters(server: ServerProcess, counters: tuple[str, ...], recall_every: int) -> list[tuple[str, str]]:
    """Call, (now and then recall,) start and finish at ``counters`` through ``server`` until
    nobody is left for them; every call and recall made, as (ticket, counter)."""
    made: list[tuple[str, str]] = []
    idle: set[str] = set()
    while len(idle) < len(counters):
        for counter in counters:
            if counter in idle:
                continue
            response = requests.post(
                f"{server.url}/api/v1/branches/main/counters/{counter}/call-next",
                headers={"Authorization": f"Bearer {server.tokens['admin']}"},
                timeout=10,
            )
            if response.status_code == 409:
                idle.add(counter)
                continue
            assert response.status_code == 201, response.text
            ticket = response.json()["event"]["ticket"]
            made.append((ticket, counter))
            if len(made) % recall_every == 0:
                # a recall is the teller's second press, seconds after the call; changes within
                # one forecast refresh reach the boards in one push (a recall 10 ms after its
                # call would be one announcement), so the test leaves more than that between them
                time.sleep(0.3)
                server.act("admin", f"/counters/{counter}/recall")
                made.append((ticket, counter))
            server.act("admin", f"/counters/{counter}/start")
            server.act("admin", f"/counters/{counter}/finish")
    return made


def test_calls_written_through_two_processes_are_each_announced_once(
    two_processes: tuple[ServerProcess, ServerProcess],  # noqa: F811  (the fixture imported above)
    context: Any,
) -> None:
    left, right = two_processes
    for counter in ("1", "2", "3", "4"):
        left.act("admin", f"/counters/{counter}/open")
    for service in ["deposit"] * 12 + ["loan"] * 4:
        right.act("kiosk", "/tickets", {"service": service})
    hall = context.new_page()
    errors: list[str] = []
    hall.on("pageerror", lambda error: errors.append(str(error)))
    hall.goto(f"{left.url}/board/hall?token={left.tokens['display']}&lang=en")
    expect(hall.locator("body")).to_have_attribute("data-connection", "live")
    hall.evaluate("() => { window.__arrivals = []; window.queueBoardLive.socket.on('board', (b) => window.__arrivals.push(b.seq)); }")
    # both processes write at once: their pushes meet in Redis in whichever order they publish
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(work_counters, left, ("1", "2"), 3), pool.submit(work_counters, right, ("3", "4"), 4)]
        made = [call for job in jobs for call in job.result()]
    assert len(made) >= 16
    spoken = spoken_when_quiet(hall, len(made), settle_ms=2000)
    assert sorted(spoken) == sorted(spoken_call(ticket, counter) for ticket, counter in made)
    arrivals: list[int] = hall.evaluate("window.__arrivals")
    late = sum(1 for before, after in itertools.pairwise(arrivals) if after < before)
    print(f"{len(arrivals)} pushes, {late} arrived after a newer one; {len(made)} calls and recalls, each said once")
    assert errors == []
