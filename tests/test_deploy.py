"""The documented production set-up, run: two gunicorn processes (deploy/gunicorn.conf.py) on
one PostgreSQL, joined by Redis, behind nginx with the sample configuration
(deploy/nginx-queue_board.conf): sticky long-polling, upgraded websockets, pushes across
processes, an import through the proxy."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from conftest import ROOT, SHARED, LiveBoard, ServerProcess, free_port, post_action, prepare_demo_branch, stop_process

REDIS_URL = os.environ.get("QB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@dataclass
class Deployment:
    """nginx at ``url`` in front of ``servers``."""

    url: str
    servers: list[ServerProcess]
    tokens: dict[str, str]

    def act(self, role: str, path: str, body: dict[str, Any] | None = None, base: str | None = None) -> dict[str, Any]:
        """POST an action through nginx (or straight to the process at ``base``) as ``role``."""
        return post_action(base or self.url, self.tokens[role], path, body)


def nginx_config(tmp_path: Path, listen: int, upstreams: list[int]) -> Path:
    """The sample server block with this test's ports, in a minimal nginx.conf of its own."""
    sample = (ROOT / "deploy" / "nginx-queue_board.conf").read_text()
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in upstreams)
    sample = re.sub(r"(    server 127\.0\.0\.1:\d+;\n)+", servers, sample)
    sample = sample.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    assert f"127.0.0.1:{upstreams[1]}" in sample and f"listen 127.0.0.1:{listen}" in sample
    (tmp_path / "queue_board.conf").write_text(sample)
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    # as root, nginx's workers would run as nobody, who cannot write into pytest's private folder
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = f"""{user}worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log warn;
daemon off;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {tmp_path}/queue_board.conf;
}}
"""
    path = tmp_path / "nginx.conf"
    path.write_text(main)
    return path


@pytest.fixture
def deployment(postgres_url: str, tmp_path: Path) -> Iterator[Deployment]:
    if NGINX is None:
        pytest.fail("nginx is needed for this test: `./scripts/setup.sh --browser` installs it (apt-get install nginx)")
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} (QB_TEST_REDIS_URL) is needed for this test: {exc}")
    tokens = prepare_demo_branch(postgres_url)
    listen = free_port()
    url = f"http://127.0.0.1:{listen}"
    env = {
        "QB_SOCKETIO_MESSAGE_QUEUE": REDIS_URL,
        "QB_SOCKETIO_CHANNEL": f"qb-test-{uuid.uuid4().hex}",
        "QB_PUBLIC_URL": url,
    }
    servers = []
    for name in ("first", "second"):
        port = free_port()
        servers.append(ServerProcess(f"http://127.0.0.1:{port}", port, postgres_url, tokens, tmp_path / f"{name}.log", env, gunicorn=True))
    config = nginx_config(tmp_path, listen, [server.port for server in servers])
    proxy: subprocess.Popen[bytes] | None = None
    try:
        for server in servers:
            server.start()
        proxy = subprocess.Popen([NGINX, "-c", str(config), "-p", str(tmp_path)], stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while True:
            try:
                if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proxy.poll() is not None or time.monotonic() > deadline:
                error_log = tmp_path / "nginx-error.log"
                raise RuntimeError(f"nginx did not start: {error_log.read_text() if error_log.exists() else proxy.returncode}")
            time.sleep(0.1)
        yield Deployment(url, servers, tokens)
    finally:
        stop_process(proxy)
        for server in servers:
            server.stop()


def test_the_sample_nginx_configuration_serves_two_gunicorn_processes(deployment: Deployment) -> None:
    polling = LiveBoard(deployment.url, deployment.tokens["display"], "polling")
    websocket = LiveBoard(deployment.url, deployment.tokens["display"], "websocket")
    try:
        # long-polling through the proxy holds (sticky), the websocket was upgraded through it
        assert polling.transport == "polling" and websocket.transport == "websocket"
        opened = deployment.act("admin", "/counters/1/open")
        # a write straight to each process reaches both boards (through Redis for the other one)
        for server in deployment.servers:
            issued = deployment.act("kiosk", "/tickets", {"service": "deposit"}, base=server.url)
            for board in (polling, websocket):
                state = board.reaches(issued["seq"])
                assert issued["ticket"]["ticket"] in [w["ticket"] for w in state["waiting"]]
        assert opened["seq"] < issued["seq"]
        # the page and its static files come through the proxy too
        page = requests.get(f"{deployment.url}/board/hall?token={deployment.tokens['display']}", timeout=10, allow_redirects=True)
        assert page.status_code == 200
        assert requests.get(f"{deployment.url}/healthz", timeout=10).json()["database"] == "ok"
        # an import larger than nginx's default body limit (1 MB) passes: the real log's first 1.2 MB
        lines: list[str] = []
        with open(SHARED / "data" / "anonymous-bank-1999-02-01-to-14.jsonl", encoding="utf-8") as log:
            size = 0
            for line in log:
                lines.append(line)
                size += len(line.encode())
                if size > 1_200_000:
                    break
        imported = requests.post(
            f"{deployment.url}/api/v1/branches/imported/import",
            data="".join(lines).encode(),
            headers={"Authorization": f"Bearer {deployment.tokens['admin']}", "Content-Type": "application/x-ndjson"},
            timeout=120,
        )
        assert imported.status_code == 201, imported.text[:500]
        assert imported.json()["imported"] == len(lines)
    finally:
        polling.close()
        websocket.close()
