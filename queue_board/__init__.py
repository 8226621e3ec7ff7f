"""queue_board: a bank-branch queue service that tells customers the truth early."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from queue_board.config import ROOT

if TYPE_CHECKING:
    from flask import Flask

    from queue_board.config import Config
    from queue_board.core.branch_config import BranchConfig
    from queue_board.service.branch_service import BranchService

__all__ = ["ROOT", "create_app"]


def create_app(config: Mapping[str, Any] | Config | None = None) -> Flask:
    """Build the app: settings, extensions (event store, live push, languages), the branch
    service, blueprints, staff sign-in, maintenance commands. Never migrates: see ``queue-board db upgrade``."""
    # imported here, not at the top, so that `queue-board serve` can switch to gevent
    # before Flask, SQLAlchemy and redis import the socket and ssl modules
    from flask import Flask

    from queue_board.cli.maintenance import register_app_commands
    from queue_board.cli.report import report_command
    from queue_board.config import Config
    from queue_board.web.api import api_bp, health_bp
    from queue_board.web.boards import boards_bp
    from queue_board.web.database import database
    from queue_board.web.i18n import init_babel
    from queue_board.web.live import live
    from queue_board.web.manage import manage_bp
    from queue_board.web.metrics import metrics
    from queue_board.web.security import security
    from queue_board.web.service import bind_service
    from queue_board.web.staff import staff_accounts, staff_bp
    from queue_board.web.tickets import tickets_bp

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.from_mapping(Config().as_mapping())
    app.config.from_mapping(config.as_mapping() if isinstance(config, Config) else config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)

    database.init_app(app)
    live.init_app(app)
    # after Socket.IO: a trusted proxy's ProxyFix then wraps Engine.IO too
    security.init_app(app)
    init_babel(app)
    service = _branch_service(app)
    bind_service(app, service)
    metrics.init_app(app, service, live.server(app))

    app.register_blueprint(health_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(boards_bp)
    app.register_blueprint(tickets_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(manage_bp)
    # after its blueprint: the failed sign-in limit is put around this app's login view
    staff_accounts.init_app(app)
    register_app_commands(app, create_app)
    app.cli.add_command(report_command)
    return app


def _branch_service(app: Flask) -> BranchService:
    """The branches' projections over the app's store, pushing through the app's own Socket.IO server."""
    from queue_board.core.events import parse_timezone
    from queue_board.forecast.durations import Priors
    from queue_board.service.branch_service import BranchService
    from queue_board.service.clock import SystemClock
    from queue_board.web.database import database
    from queue_board.web.live import live, run_here

    service = BranchService(
        database.store(app),
        clock=app.config.get("CLOCK") or SystemClock(parse_timezone(app.config["TIMEZONE"])),
        priors=Priors(service_seconds=float(app.config["PRIOR_SERVICE_SECONDS"])),
        scenarios=int(app.config["FORECAST_SCENARIOS"]),
        default_config=_default_branch_config(app),
        target_minutes=float(app.config["SERVICE_LEVEL_TARGET_MINUTES"]),
        warnings_enabled=bool(app.config["WARNINGS_ENABLED"]),
        warning_sweep_seconds=float(app.config["WARNING_SWEEP_SECONDS"]),
        sister_priors=bool(app.config["SISTER_PRIORS"]),
        publish=live.publisher(app),
        start_task=run_here if app.config["FORECAST_INLINE"] else live.task_starter(app),
        offload=live.offloader(app),
    )
    service.reports.on_push(*live.manager_pushes(app))
    return service


def _instance_secret(app: Flask) -> str:
    """A secret generated once per installation and kept in the instance folder."""
    import secrets

    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _default_branch_config(app: Flask) -> BranchConfig:
    from queue_board.core.branch_config import DEMO_CONFIG, BranchConfig
    from queue_board.service.config_files import load_config_file

    path = app.config.get("BRANCH_CONFIG_FILE")
    if path:
        return load_config_file(path)
    return DEMO_CONFIG if app.config.get("DEMO") else BranchConfig()
