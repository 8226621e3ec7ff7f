"""queue_board: a bank-branch queue service that tells customers the truth early."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from queue_board.config import Config
    from queue_board.core.branch_config import BranchConfig
    from queue_board.service.branch_service import BranchService

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | Config | None = None) -> Flask:
    """Build the app: settings, event store, live push, the branch service, blueprints."""
    # imported here, not at the top, so that `queue-board serve` can switch to gevent
    # before Flask, SQLAlchemy and redis import the socket and ssl modules
    from flask import Flask

    from queue_board.config import Config
    from queue_board.forecast.durations import Priors
    from queue_board.service.branch_service import BranchService
    from queue_board.service.clock import SystemClock, parse_timezone
    from queue_board.store.event_store import EventStore
    from queue_board.web.extensions import offload, socketio

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.from_mapping(Config().as_mapping())
    if isinstance(config, Config):
        app.config.from_mapping(config.as_mapping())
    elif config is not None:
        app.config.from_mapping(config)

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)

    store = EventStore(app.config["DATABASE_URL"])
    store.upgrade()

    # handlers must be declared before init_app, which copies them onto each new server
    from queue_board.web import sockets  # noqa: F401

    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"] or None,
        channel=app.config["SOCKETIO_CHANNEL"],
    )

    default_config = _default_branch_config(app)
    clock = app.config.get("CLOCK") or SystemClock(parse_timezone(app.config["TIMEZONE"]))
    service = BranchService(
        store,
        clock=clock,
        priors=Priors(service_seconds=float(app.config["PRIOR_SERVICE_SECONDS"])),
        scenarios=int(app.config["FORECAST_SCENARIOS"]),
        default_config=default_config,
        publish=lambda branch, payload: socketio.emit("board", payload, to=room(branch)),
        start_task=(lambda task, *a: task(*a)) if app.config["FORECAST_INLINE"] else socketio.start_background_task,
        offload=offload,
    )
    app.extensions["queue_board"] = service

    from queue_board.cli import register_app_commands
    from queue_board.web.api import api_bp, health_bp
    from queue_board.web.boards import boards_bp
    from queue_board.web.boards.i18n import init_babel

    app.register_blueprint(health_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    init_babel(app)
    app.register_blueprint(boards_bp)
    register_app_commands(app)
    return app


def _instance_secret(app: Flask) -> str:
    """A secret generated once per installation and kept in the instance folder."""
    import secrets

    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def room(branch: str) -> str:
    """The Socket.IO room of a branch's boards."""
    return f"branch:{branch}"


def _default_branch_config(app: Flask) -> BranchConfig:
    from queue_board.core.branch_config import DEMO_CONFIG, BranchConfig, load_config_file

    path = app.config.get("BRANCH_CONFIG_FILE")
    if path:
        return load_config_file(path)
    return DEMO_CONFIG if app.config.get("DEMO") else BranchConfig()


def current_service() -> BranchService:
    """The branch service of the current app."""
    from flask import current_app

    service: BranchService = current_app.extensions["queue_board"]
    return service
