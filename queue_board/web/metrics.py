"""``/metrics`` in Prometheus's text format, as a Flask extension with a registry per app.

prometheus_client's default registry is global to the process, so two apps in one process
(tests, scripts) would count into each other's series. :class:`Metrics` instead makes a
:class:`~prometheus_client.CollectorRegistry` per app in ``init_app`` and keeps it, with the
app's instruments, in ``app.extensions``. The service layer knows nothing of it: the web layer
hands the service timing hooks (board pushes, forecast refreshes, accepted events) and counts
rejected requests in an ``after_request`` hook. Every instrument costs a few microseconds per
write or push and nothing per board; the connected boards are counted only when scraped, from
the Socket.IO server's own rooms.

Each server process serves its own ``/metrics`` (Prometheus scrapes every process and sums);
prometheus_client's multiprocess mode is not used. Details: docs/api.md "Metrics".
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask_socketio import SocketIO
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from queue_board.core.events import Event
from queue_board.service.branch_service import BranchService
from queue_board.service.errors import ProblemError
from queue_board.web.auth import current_grant
from queue_board.web.sockets.rooms import board_room

EXTENSION = "queue_board_metrics"
#: the error word of a 4xx answer without a JSON body naming one (a page, the sign-in limit)
STATUS_WORDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}
#: what an error word from a JSON body must look like to become a label (bounds the series)
ERROR_WORD = re.compile(r"[a-z_]{1,40}")
#: the boards' rooms are named with this prefix followed by the branch
BOARD_ROOM_PREFIX = board_room("")
#: the boards' Socket.IO namespace
BOARDS_NAMESPACE = "/"


@dataclass(frozen=True, slots=True)
class Instruments:
    """One app's registry and what it counts."""

    registry: CollectorRegistry
    events: Counter
    rejected: Counter
    push_seconds: Histogram
    refresh_seconds: Histogram

    def event_written(self, _branch: str, event: Event | None) -> None:
        """Count an accepted event by type (``None``, an import, is counted by its own events' refresh only)."""
        if event is not None:
            self.events.labels(type=event.type).inc()

    def board_pushed(self, _branch: str, seconds: float) -> None:
        """Record how long building and emitting one board push took."""
        self.push_seconds.observe(seconds)

    def forecast_refreshed(self, _branch: str, seconds: float) -> None:
        """Record how long one forecast refresh took."""
        self.refresh_seconds.observe(seconds)


class ConnectedBoards(Collector):
    """The sockets in each branch's boards' room, counted when scraped (no work per connect)."""

    def __init__(self, socketio: SocketIO) -> None:
        self.socketio = socketio

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One sample per branch with at least one board (or teller console) connected to this process."""
        family = GaugeMetricFamily(
            "queue_board_connected_boards",
            "Sockets on the boards' namespace (boards and teller consoles) connected to this process, per branch",
            labels=["branch"],
        )
        manager = getattr(self.socketio.server, "manager", None)
        rooms = getattr(manager, "rooms", None) if manager is not None else None
        if isinstance(rooms, dict):
            # a copy of the dict is made in one step under the GIL: the event loop may add rooms meanwhile
            for room, participants in dict(rooms.get(BOARDS_NAMESPACE, {})).items():
                if isinstance(room, str) and room.startswith(BOARD_ROOM_PREFIX):
                    family.add_metric([room[len(BOARD_ROOM_PREFIX) :]], len(participants))
        yield family


class Metrics:
    """Binds a Prometheus registry, its instruments and ``/metrics`` to each app."""

    def init_app(self, app: Flask, service: BranchService, socketio: SocketIO) -> None:
        """Give ``app`` its own registry, hook its instruments into ``service``, serve ``/metrics``."""
        registry = CollectorRegistry(auto_describe=True)
        instruments = Instruments(
            registry=registry,
            events=Counter(
                "queue_board_events_accepted", "Events accepted into the branches' logs, by type", ["type"], registry=registry
            ),
            rejected=Counter(
                "queue_board_requests_rejected",
                "Requests answered with a 4xx, by status and error word",
                ["status", "reason"],
                registry=registry,
            ),
            push_seconds=Histogram(
                "queue_board_board_push_seconds",
                "Time to build one board view and emit it to the branch's boards",
                buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
                registry=registry,
            ),
            refresh_seconds=Histogram(
                "queue_board_forecast_refresh_seconds",
                "Time of one forecast refresh (copy under the lock, Monte-Carlo run, keep)",
                buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
                registry=registry,
            ),
        )
        registry.register(ConnectedBoards(socketio))
        app.extensions[EXTENSION] = instruments
        service.on_written(instruments.event_written)
        service.boards.on_timing = instruments.board_pushed
        service.forecasts.on_timing = instruments.forecast_refreshed
        app.after_request(_count_rejection)
        app.register_blueprint(metrics_bp)


def instruments_of(app: Flask) -> Instruments:
    """The metrics of ``app``."""
    instruments: Instruments = app.extensions[EXTENSION]
    return instruments


def _count_rejection(response: Response) -> Response:
    """Count a 4xx answer by its status and the error word of its JSON body (errors are rare: the parse is cheap)."""
    status = response.status_code
    if 400 <= status < 500:
        reason = STATUS_WORDS.get(status, "client_error")
        if response.is_json and not response.is_streamed:
            body = response.get_json(silent=True)
            word = body.get("error") if isinstance(body, dict) else None
            if isinstance(word, str) and ERROR_WORD.fullmatch(word):
                reason = word
        instruments_of(current_app).rejected.labels(status=str(status), reason=reason).inc()
    return response


metrics_bp = Blueprint("metrics", __name__)


@metrics_bp.route("/metrics", methods=["GET"])
def metrics_view() -> Response | tuple[Response, int]:
    """This process's metrics, for a scraper holding ``QB_METRICS_TOKEN`` or an admin."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    expected = str(current_app.config.get("METRICS_TOKEN") or "")
    is_scraper = bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected.encode())
    if not is_scraper:
        try:
            # any other token goes through the one loader, so guessing here is limited like anywhere else
            caller = current_grant()
        except ProblemError as exc:
            return jsonify(exc.to_dict()), exc.status
        if caller.role != "admin":
            return jsonify(error="forbidden", message="/metrics is for the metrics token (QB_METRICS_TOKEN) or an admin"), 403
    body = generate_latest(instruments_of(current_app).registry)
    return Response(body, content_type=CONTENT_TYPE_LATEST)


#: Prometheus metrics; bound per app by the factory
metrics = Metrics()
