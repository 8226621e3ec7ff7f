"""``QB_PUBLIC_URL``: ``serve`` refuses to start without it outside the demo, and ticket links
(the kiosk's QR codes) are built on it, never on the request's ``Host`` outside the demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Tokens, free_port
from flask.testing import FlaskClient

from queue_board import ROOT
from queue_board.cli import cli, public_url_problem
from queue_board.web.live import LivePush

API = "/api/v1/branches/main"


def serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("QB_")}
    return {**env, "QB_DATABASE_URL": f"sqlite:///{tmp_path / 'qb.db'}", "QB_SECRET_KEY": "test", **extra}


def test_serve_refuses_to_start_without_a_public_url(tmp_path: Path) -> None:
    # the real command (gevent and all): it must stop at once with a message, not serve
    result = subprocess.run(
        [sys.executable, "-m", "queue_board", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=serve_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "QB_PUBLIC_URL is not set" in result.stderr
    assert "queue_board serving" not in result.stdout
    assert not (tmp_path / "qb.db").exists(), "nothing is migrated before the refusal"


@pytest.mark.parametrize("url", ["queue.bank.example", "ftp://queue.bank.example", "https://", "https://x.example/?a=1", "http://[::1"])
def test_serve_refuses_a_public_url_that_is_no_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    for key, value in serve_env(tmp_path, QB_SOCKETIO_ASYNC_MODE="threading", QB_PUBLIC_URL=url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(LivePush, "serve_forever", lambda *args: pytest.fail("served with a bad PUBLIC_URL"))
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 1
    assert "is not an http(s) address" in result.output


@pytest.mark.parametrize("how", ["env", "option"])
def test_serve_starts_with_a_public_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    env = serve_env(tmp_path, QB_SOCKETIO_ASYNC_MODE="threading")
    if how == "env":
        env["QB_PUBLIC_URL"] = "https://queue.bank.example"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    if how != "env":
        monkeypatch.delenv("QB_PUBLIC_URL", raising=False)
    served: list[Any] = []
    monkeypatch.setattr(LivePush, "serve_forever", lambda self, app, host, port: served.append(app.config["PUBLIC_URL"]))
    args = ["serve"] if how == "env" else ["serve", "--public-url", "https://queue.bank.example"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert served == ["https://queue.bank.example"]


def test_only_the_demo_and_tests_may_go_without_one() -> None:
    assert public_url_problem({"PUBLIC_URL": ""}) is not None
    assert public_url_problem({"PUBLIC_URL": "", "DEMO": True}) is None
    assert public_url_problem({"PUBLIC_URL": "", "TESTING": True}) is None
    assert public_url_problem({"PUBLIC_URL": "https://queue.bank.example"}) is None
    assert public_url_problem({"PUBLIC_URL": "http://10.0.0.5:5000/queue"}) is None


# the links ------------------------------------------------------------------------------------------
def link(client: FlaskClient, tokens: Tokens, host: str = "localhost") -> Any:
    label = client.post(f"{API}/tickets", json={"service": "deposit"}, headers=tokens.auth("kiosk")).json["ticket"]["ticket"]  # type: ignore[index]
    return client.post("/t/links", json={"branch": "main", "ticket": label}, headers={**tokens.auth("kiosk"), "Host": host})


@pytest.mark.app_settings(PUBLIC_URL="https://queue.bank.example/")
def test_links_and_qr_codes_are_built_on_the_public_url(client: FlaskClient, tokens: Tokens) -> None:
    answer = link(client, tokens, "evil.example")
    assert answer.status_code == 201
    assert answer.json["url"] == "https://queue.bank.example" + answer.json["path"]
    qr = client.get(answer.json["qr"])
    assert qr.status_code == 200 and b"<svg" in qr.data


@pytest.mark.app_settings(PUBLIC_URL="")
def test_without_a_public_url_outside_the_demo_there_is_no_link(client: FlaskClient, tokens: Tokens) -> None:
    answer = link(client, tokens, "evil.example")
    assert answer.status_code == 503
    assert answer.json["error"] == "public_url_missing"
    assert "evil.example" not in answer.get_data(as_text=True)


@pytest.mark.app_settings(PUBLIC_URL="", DEMO=True)
def test_the_demo_without_one_takes_the_host_it_was_reached_at(client: FlaskClient, tokens: Tokens) -> None:
    answer = link(client, tokens, "192.168.1.20:5000")
    assert answer.status_code == 201
    assert answer.json["url"].startswith("http://192.168.1.20:5000/t/")
