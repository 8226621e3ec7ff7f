"""The customer's ticket: signed links, the read-only state of one ticket, its QR code, its live channel."""

from __future__ import annotations

import queue
import time
from typing import Any

import pytest
import requests
import socketio
from conftest import LiveServer, ManualClock, Tokens
from flask import Flask
from flask.testing import FlaskClient

from queue_board.core.branch import replay as project
from queue_board.core.branch_config import DEMO_CONFIG
from queue_board.core.events import parse_event
from queue_board.core.ticket_view import ticket_view, ticket_views
from queue_board.web.tickets.links import TicketRef, sign, verify


def post(client: FlaskClient, tokens: Tokens, role: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = client.post(f"/api/v1/branches/main{path}", json=body, headers=tokens.auth(role))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def take(client: FlaskClient, tokens: Tokens, service: str = "deposit") -> str:
    label: str = post(client, tokens, "kiosk", "/tickets", {"service": service})["ticket"]["ticket"]
    return label


def link_for(client: FlaskClient, tokens: Tokens, label: str, role: str = "kiosk") -> dict[str, Any]:
    response = client.post("/t/links", json={"branch": "main", "ticket": label}, headers=tokens.auth(role))
    assert response.status_code == 201, response.get_json()
    data: dict[str, Any] = response.get_json()
    return data


def test_a_link_round_trips_and_a_forged_one_is_refused(app: Flask) -> None:
    with app.test_request_context():
        signed = sign(TicketRef("main", "2026-03-02", "A017"))
        assert verify(signed) == TicketRef("main", "2026-03-02", "A017")
        forged = signed.replace("A017", "A018") if "A017" in signed else signed[:-2] + "xx"
        assert verify(forged) is None
        assert verify(signed[:-1]) is None
        assert verify("") is None
        assert verify(None) is None
    other = Flask("other")
    other.config["SECRET_KEY"] = "another secret"
    with other.test_request_context():
        assert verify(signed) is None, "a link signed with another server's key is not a ticket of this one"


def test_kiosk_gets_a_link_with_a_qr_code_for_a_ticket_it_issued(client: FlaskClient, tokens: Tokens) -> None:
    label = take(client, tokens)
    link = link_for(client, tokens, label)
    assert link["ticket"] == label
    assert link["day"] == "2026-03-02"
    assert link["url"].startswith("http://localhost/t/")
    assert link["qr"] == link["path"] + "/qr.svg"
    page = client.get(link["path"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-ticket="{label}"' in html
    qr = client.get(link["qr"])
    assert qr.status_code == 200
    assert qr.mimetype == "image/svg+xml"
    assert qr.get_data(as_text=True).lstrip().startswith("<svg")


def test_public_url_is_what_the_qr_code_points_to(app: Flask, client: FlaskClient, tokens: Tokens) -> None:
    app.config["PUBLIC_URL"] = "https://queue.example-bank.test/"
    link = link_for(client, tokens, take(client, tokens))
    assert link["url"] == "https://queue.example-bank.test" + link["path"]


@pytest.mark.parametrize(
    ("role", "body", "status"),
    [
        ("display", {"branch": "main", "ticket": "A001"}, 403),
        ("teller1", {"branch": "main", "ticket": "A001"}, 403),
        ("kiosk", {"branch": "main", "ticket": "Z999"}, 404),
        ("kiosk", {"branch": "main"}, 422),
        ("other_branch_manager", {"branch": "main", "ticket": "A001"}, 403),
    ],
)
def test_only_a_kiosk_or_manager_gets_links_and_only_for_real_tickets(
    client: FlaskClient, tokens: Tokens, role: str, body: dict[str, Any], status: int
) -> None:
    take(client, tokens)
    response = client.post("/t/links", json=body, headers=tokens.auth(role))
    assert response.status_code == status, response.get_json()
    assert "message" in response.get_json()


def test_a_link_needs_a_token(client: FlaskClient, tokens: Tokens) -> None:
    take(client, tokens)
    assert client.post("/t/links", json={"branch": "main", "ticket": "A001"}).status_code == 401


def test_ticket_state_follows_the_ticket_and_holds_nothing_about_others(
    client: FlaskClient, tokens: Tokens, clock: ManualClock
) -> None:
    post(client, tokens, "teller1", "/counters/1/open")
    first, mine, after = take(client, tokens), take(client, tokens), take(client, tokens)
    state_url = link_for(client, tokens, mine)["path"] + "/state"

    waiting = client.get(state_url).get_json()
    assert waiting["ticket"] == mine
    assert waiting["status"] == "waiting"
    assert waiting["people_ahead"] == 1
    assert waiting["service"] == "deposit"
    assert waiting["service_names"]["zh-Hant"] == "存提款"
    assert waiting["counters_serving"] == 1
    assert waiting["counters_paused"] == 0
    text = client.get(state_url).get_data(as_text=True)
    assert first not in text and after not in text, "another customer's ticket leaked"
    assert "waiting" not in waiting or not isinstance(waiting.get("waiting"), list)

    post(client, tokens, "teller1", "/counters/1/call-next")
    assert client.get(state_url).get_json()["people_ahead"] == 0
    clock.advance(60)
    for action in ("start", "finish"):
        post(client, tokens, "teller1", f"/counters/1/{action}")
    post(client, tokens, "teller1", "/counters/1/call-next")
    called = client.get(state_url).get_json()
    assert (called["status"], called["counter"], called["recalls"]) == ("called", "1", 0)
    post(client, tokens, "teller1", "/counters/1/recall")
    assert client.get(state_url).get_json()["recalls"] == 1
    post(client, tokens, "teller1", "/counters/1/start")
    assert client.get(state_url).get_json()["status"] == "serving"
    post(client, tokens, "teller1", "/counters/1/finish")
    assert client.get(state_url).get_json()["status"] == "done"


def test_paused_counters_are_counted_for_the_why(client: FlaskClient, tokens: Tokens) -> None:
    post(client, tokens, "teller1", "/counters/1/open")
    post(client, tokens, "teller2", "/counters/2/open")
    post(client, tokens, "teller2", "/counters/2/pause", {"reason": "Lunch", "minutes": 30})
    state = client.get(link_for(client, tokens, take(client, tokens))["path"] + "/state").get_json()
    assert (state["counters_serving"], state["counters_paused"]) == (1, 1)


def test_cancelled_and_no_show_tickets_say_so(client: FlaskClient, tokens: Tokens) -> None:
    post(client, tokens, "teller1", "/counters/1/open")
    gone, missed = take(client, tokens), take(client, tokens)
    gone_url = link_for(client, tokens, gone)["path"] + "/state"
    missed_url = link_for(client, tokens, missed)["path"] + "/state"
    post(client, tokens, "kiosk", f"/tickets/{gone}/cancel")
    post(client, tokens, "teller1", "/counters/1/call-next")
    post(client, tokens, "teller1", "/counters/1/no-show")
    assert client.get(gone_url).get_json()["status"] == "cancelled"
    assert client.get(missed_url).get_json()["status"] == "no_show"


def test_a_link_from_another_day_is_expired_even_if_the_label_exists_today(
    app: Flask, client: FlaskClient, tokens: Tokens
) -> None:
    label = take(client, tokens)
    with app.test_request_context():
        yesterday = sign(TicketRef("main", "2026-03-01", label))
    state = client.get(f"/t/{yesterday}/state").get_json()
    assert state["status"] == "expired"
    assert state["people_ahead"] is None and state["wait"] is None


def test_unknown_ticket_and_bad_links(app: Flask, client: FlaskClient, tokens: Tokens) -> None:
    take(client, tokens)
    with app.test_request_context():
        nobody = sign(TicketRef("main", "2026-03-02", "B123"))
        nowhere = sign(TicketRef("nowhere", "2026-03-02", "A001"))
    assert client.get(f"/t/{nobody}/state").get_json()["status"] == "unknown"
    assert client.get(f"/t/{nowhere}/state").get_json()["status"] == "unknown"
    assert client.get("/t/forged.link/state").status_code == 404
    assert client.get("/t/forged.link/qr.svg").status_code == 404
    page = client.get("/t/forged.link")
    assert page.status_code == 404
    assert "This ticket link is not valid." in page.get_data(as_text=True)


def test_ticket_view_is_pure_and_tells_expired_from_unknown() -> None:
    def at(minute: int) -> str:
        return f"2026-03-02T09:{minute:02d}:00+08:00"

    state = project(
        [
            parse_event({"ts": at(0), "type": "counter_opened", "counter": "1", "services": [["deposit"], ["loan"]]}),
            parse_event({"ts": at(1), "type": "ticket_issued", "ticket": "A001", "service": "deposit"}),
            parse_event({"ts": at(2), "type": "ticket_called", "ticket": "A001", "counter": "1"}),
            parse_event({"ts": at(3), "type": "service_started", "ticket": "A001", "counter": "1"}),
            parse_event({"ts": at(4), "type": "ticket_transferred", "ticket": "A001", "counter": "1", "service": "loan"}),
            parse_event({"ts": at(5), "type": "ticket_issued", "ticket": "C001", "service": "loan"}),
        ]
    )

    def view(day: str, label: str) -> dict[str, Any]:
        return ticket_view(state, DEMO_CONFIG, None, branch="main", day=day, label=label)

    assert view("2026-03-03", "A001")["status"] == "expired"
    assert view("2026-03-02", "B009")["status"] == "unknown"
    transferred = view("2026-03-02", "A001")
    # a transferred customer waits again, ahead of a later loan ticket (they keep their place)
    assert (transferred["status"], transferred["service"], transferred["people_ahead"]) == ("waiting", "loan", 0)
    assert (transferred["called_at"], transferred["counter"], transferred["counters_serving"]) == (None, None, 1)
    assert view("2026-03-02", "C001")["people_ahead"] == 1
    nowhere = ticket_view(None, DEMO_CONFIG, None, branch="nowhere", day="2026-03-02", label="A001")
    assert (nowhere["status"], nowhere["branch_name"]) == ("unknown", None)


def test_the_pages_of_a_whole_branch_built_at_once_are_each_ticket_s_own_page() -> None:
    """What the pages of one branch share is worked out once: each must still be its own."""

    def at(minute: int) -> str:
        return f"2026-03-02T09:{minute:02d}:00+08:00"

    events = [
        {"type": "counter_opened", "counter": "1", "services": [["deposit"], ["loan"]]},
        {"type": "counter_opened", "counter": "2", "services": [["loan"]]},
        {"type": "counter_paused", "counter": "2", "reason": "lunch", "minutes": 30},
    ]
    events += [{"type": "ticket_issued", "ticket": f"A00{n}", "service": "deposit"} for n in range(1, 5)]
    events += [{"type": "ticket_issued", "ticket": f"C00{n}", "service": "loan"} for n in range(1, 4)]
    events += [
        {"type": "ticket_called", "ticket": "A001", "counter": "1"},
        {"type": "service_started", "ticket": "A001", "counter": "1"},
        {"type": "ticket_cancelled", "ticket": "A003"},
    ]
    state = project([parse_event({"ts": at(minute), **e}) for minute, e in enumerate(events)])
    asked = [("2026-03-02", label) for label in ("C003", "A004", "A001", "A002", "C001", "A003", "B001", "C002")]
    asked.append(("2026-03-01", "A002"))
    together = ticket_views(state, DEMO_CONFIG, None, branch="main", tickets=asked, now=state.now + 30)
    alone = [ticket_view(state, DEMO_CONFIG, None, branch="main", day=day, label=label, now=state.now + 30) for day, label in asked]
    assert together == alone
    ahead = {view["ticket"]: view["people_ahead"] for view in together if view["status"] == "waiting"}
    assert ahead == {"C003": 2, "A004": 1, "A002": 0, "C001": 0, "C002": 1}
    assert [(v["counters_serving"], v["counters_paused"]) for v in together[:2]] == [(1, 1), (1, 0)]


def test_display_token_binding_is_readable_by_the_board(client: FlaskClient, app: Flask) -> None:
    store = app.extensions["queue_board"].store
    bound = store.create_token("above 3", "display", "main", "3")
    response = client.get("/board/binding", headers={"Authorization": f"Bearer {bound}"})
    assert response.get_json() == {"role": "display", "branch": "main", "counter": "3"}
    assert client.get("/board/binding").status_code == 401


class TicketClient:
    """A python-socketio client on the ``/ticket`` namespace."""

    def __init__(self, live: LiveServer, link: str) -> None:
        self.messages: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("ticket", lambda data: self.messages.put(("ticket", data)), namespace="/ticket")
        self.client.on("changed", lambda data: self.messages.put(("changed", data)), namespace="/ticket")  # never sent now
        self.client.connect(
            live.url, namespaces=["/ticket"], auth={"ticket": link}, transports=["websocket"], wait_timeout=10
        )

    def next(self, kind: str, timeout: float = 10.0) -> Any:
        while True:
            got = self.messages.get(timeout=timeout)
            if got[0] == kind:
                return got[1]


def _ticket_with_link(live: LiveServer) -> tuple[str, str]:
    """A new deposit ticket of ``main`` and its link's credential."""
    auth = live.tokens.auth
    issued = requests.post(f"{live.url}/api/v1/branches/main/tickets", json={"service": "deposit"}, headers=auth("kiosk"), timeout=10)
    label = issued.json()["ticket"]["ticket"]
    link = requests.post(f"{live.url}/t/links", json={"branch": "main", "ticket": label}, headers=auth("kiosk"), timeout=10).json()
    return label, link["path"].rsplit("/", 1)[1]


def test_ticket_pages_get_their_own_state_pushed_after_every_change(live_server: LiveServer) -> None:
    api = f"{live_server.url}/api/v1/branches/main"
    requests.post(f"{api}/counters/1/open", headers=live_server.tokens.auth("teller1"), timeout=10)
    first_label, first_link = _ticket_with_link(live_server)
    second_label, second_link = _ticket_with_link(live_server)
    first, second, second_again = (TicketClient(live_server, link) for link in (first_link, second_link, second_link))
    try:
        for page, label in ((first, first_label), (second, second_label), (second_again, second_label)):
            assert page.next("ticket")["ticket"] == label
        called = requests.post(f"{api}/counters/1/call-next", headers=live_server.tokens.auth("teller1"), timeout=10).json()
        # no refresh asked for: the server sends each page its ticket's state once the push is out
        for page in (second, second_again):
            while (state := page.next("ticket"))["seq"] < called["seq"]:
                pass
            assert (state["ticket"], state["status"], state["people_ahead"]) == (second_label, "waiting", 0)
        while (state := first.next("ticket"))["seq"] < called["seq"]:
            pass
        assert (state["ticket"], state["status"]) == (first_label, "called")
        time.sleep(0.5)
        for page, label in ((first, first_label), (second, second_label), (second_again, second_label)):
            heard = []
            while not page.messages.empty():
                heard.append(page.messages.get_nowait())
            assert all(kind == "ticket" for kind, _ in heard), "no nudge reaches a page any more"
            assert all(data["ticket"] == label for _, data in heard), "a page gets its own ticket's state only"
    finally:
        for page in (first, second, second_again):
            page.client.disconnect()


def test_a_ticket_page_may_still_ask_for_its_state(live_server: LiveServer) -> None:
    label, link = _ticket_with_link(live_server)
    page = TicketClient(live_server, link)
    try:
        assert page.next("ticket")["ticket"] == label
        page.client.emit("refresh", namespace="/ticket")
        assert page.next("ticket")["ticket"] == label
        page.client.emit("refresh", {"seq": 2}, namespace="/ticket")
        assert page.next("ticket")["ticket"] == label
    finally:
        page.client.disconnect()


def test_closed_ticket_pages_are_forgotten_at_the_next_push(live_server: LiveServer) -> None:
    from queue_board.web.sockets.ticket_pages import ticket_pages_of

    api = f"{live_server.url}/api/v1/branches/main"
    label, link = _ticket_with_link(live_server)
    page = TicketClient(live_server, link)
    assert page.next("ticket")["ticket"] == label
    pages = ticket_pages_of(live_server.app)
    assert [ref.label for ref in pages.rooms_of("main").values()] == [label]
    page.client.disconnect()
    requests.post(f"{api}/counters/1/open", headers=live_server.tokens.auth("teller1"), timeout=10)
    deadline = time.monotonic() + 10
    while pages.rooms_of("main") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pages.rooms_of("main") == {}


def test_ticket_namespace_refuses_a_forged_link(live_server: LiveServer) -> None:
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            live_server.url, namespaces=["/ticket"], auth={"ticket": "forged"}, transports=["websocket"], wait_timeout=5
        )
    client.disconnect()
