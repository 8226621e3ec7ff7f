"""A ticket page's refresh after a push costs no query when this process already holds the
state the push announced (issue 12: a branch's 50–150 phones each asked after every push, and
each ask caught up with the store)."""

from __future__ import annotations

from typing import Any

from conftest import Tokens
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event as sql_events

from queue_board.web.database import database
from queue_board.web.tickets.links import TicketRef, sign


def statements_during(app: Flask, action: Any) -> list[str]:
    """The SQL statements ``action`` ran, on either of the store's engines."""
    store = database.store(app)
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    engines = {store.engine, store.reader}
    for engine in engines:
        sql_events.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        for engine in engines:
            sql_events.remove(engine, "before_cursor_execute", record)
    return seen


def test_a_ticket_page_refreshes_from_memory_when_it_names_a_seq_this_process_holds(
    app: Flask, client: FlaskClient, tokens: Tokens
) -> None:
    assert client.post("/api/v1/branches/main/counters/1/open", headers=tokens.auth("teller1")).status_code == 201
    issued = client.post("/api/v1/branches/main/tickets", json={"service": "deposit"}, headers=tokens.auth("kiosk")).get_json()
    label, seq = issued["ticket"]["ticket"], issued["seq"]
    day = issued["event"]["ts"][:10]  # the test clock's branch day
    with app.app_context():
        signed = sign(TicketRef("main", day, label))
    page = app.extensions["socketio"].test_client(app, namespace="/ticket", auth={"ticket": signed})
    try:
        page.get_received("/ticket")
        # the nudge named seq: answered from the state this process holds, no query
        ran = statements_during(app, lambda: page.emit("refresh", {"seq": seq}, namespace="/ticket"))
        answers = [m["args"][0] for m in page.get_received("/ticket") if m["name"] == "ticket"]
        assert answers and answers[-1]["ticket"] == label and answers[-1]["status"] == "waiting" and answers[-1]["seq"] == seq
        assert [s for s in ran if not s.startswith("BEGIN")] == []
        # a newer seq than this process holds (another process wrote it), or none (the page's
        # safety poll): it catches up first
        ran = statements_during(app, lambda: page.emit("refresh", {"seq": seq + 5}, namespace="/ticket"))
        assert any(s.startswith("SELECT") for s in ran)
        ran = statements_during(app, lambda: page.emit("refresh", namespace="/ticket"))
        assert any(s.startswith("SELECT") for s in ran)
        assert all(m["args"][0]["ticket"] == label for m in page.get_received("/ticket") if m["name"] == "ticket")
    finally:
        page.disconnect(namespace="/ticket")


def test_pushing_a_branchs_ticket_pages_reads_nothing_more_from_the_store(app: Flask, client: FlaskClient, tokens: Tokens) -> None:
    """The process that wrote an event holds its state: the pages' states after the push are
    built from it, not from a query per page."""
    for teller, counter in (("teller1", "1"), ("teller2", "2")):
        assert client.post(f"/api/v1/branches/main/counters/{counter}/open", headers=tokens.auth(teller)).status_code == 201
    signed = []
    for _ in range(6):
        issued = client.post("/api/v1/branches/main/tickets", json={"service": "deposit"}, headers=tokens.auth("kiosk")).get_json()
        with app.app_context():
            signed.append(sign(TicketRef("main", issued["event"]["ts"][:10], issued["ticket"]["ticket"])))
    without_pages = statements_during(app, lambda: client.post("/api/v1/branches/main/counters/2/call-next", headers=tokens.auth("teller2")))
    pages = [app.extensions["socketio"].test_client(app, namespace="/ticket", auth={"ticket": link}) for link in signed[1:]]
    try:
        for page in pages:
            page.get_received("/ticket")
        with_pages = statements_during(app, lambda: client.post("/api/v1/branches/main/counters/1/call-next", headers=tokens.auth("teller1")))
        states = [[m["args"][0] for m in page.get_received("/ticket") if m["name"] == "ticket"] for page in pages]
        assert all(got and got[-1]["seq"] == states[0][-1]["seq"] for got in states), "every open page got the new state"
        assert states[0][-1]["status"] == "called"
        assert len(with_pages) == len(without_pages)
    finally:
        for page in pages:
            page.disconnect(namespace="/ticket")
