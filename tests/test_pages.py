"""The screens' HTML shells, the index page and the Socket.IO client bundle (Flask test client)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from queue_board import ROOT
from queue_board.web.boards import routes as boards


@pytest.mark.parametrize(
    ("path", "script"),
    [
        ("/board/hall", "js/hall.js"),
        ("/board/counter/2", "js/counter.js"),
        ("/teller/1", "js/teller.js"),
        ("/kiosk", "js/kiosk.js"),
    ],
)
def test_screens_load_the_socketio_client_and_their_module(client: FlaskClient, path: str, script: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<script src="/vendor/socket.io.min.js"></script>' in html
    assert f'<script type="module" src="/static/{script}"></script>' in html
    assert 'data-default-branch="main"' in html
    assert 'id="connection-banner"' in html


@pytest.mark.parametrize("path", ["/", "/board/hall", "/board/counter/1", "/teller/1", "/kiosk", "/t/not-a-link"])
def test_pages_have_no_inline_script_and_forbid_it(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "data and code reach pages only via their JS files"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_teller_console_is_bound_to_its_counter(client: FlaskClient) -> None:
    html = client.get("/teller/3").get_data(as_text=True)
    assert 'data-counter="3"' in html
    assert "<h1 data-i18n=\"Counter %(name)s\" data-i18n-args='{\"name\": \"3\"}'>Counter 3</h1>" in html


def test_teller_counter_name_from_the_url_is_escaped(client: FlaskClient) -> None:
    html = client.get("/teller/%3Cimg%20src=x%3E").get_data(as_text=True)
    assert "<img src=x>" not in html
    assert "&lt;img src=x&gt;" in html


def test_index_explains_the_app_and_links_every_screen(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "queue_board" in html
    for href in ("/board/hall", "/kiosk", "/teller/1", "/teller/4", "/board/counter/1", "/board/counter/4"):
        assert f'href="{href}"' in html
    assert "Demo links" not in html


def test_index_lists_the_demo_links_in_demo_mode(app: Flask, client: FlaskClient) -> None:
    app.config["DEMO"] = True
    app.config["DEMO_LINKS"] = [
        {"label": "Hall board <big screen>", "url": "/board/hall?token=abc"},
        {"label": "Counter 1", "url": "/teller/1?token=def"},
    ]
    html = client.get("/").get_data(as_text=True)
    assert "Demo links" in html
    assert '<a href="/board/hall?token=abc">Hall board &lt;big screen&gt;</a>' in html
    assert '<a href="/teller/1?token=def">Counter 1</a>' in html


def test_index_speaks_the_readers_language(app: Flask, client: FlaskClient) -> None:
    app.config["DEMO"] = True
    app.config["DEMO_LINKS"] = [
        {"screen": "teller", "counter": "<b>2</b>", "label": "Teller console, counter 2", "url": "/teller/2?token=t"},
        {"screen": "hall", "counter": "", "label": "Hall board", "url": "/board/hall?token=h"},
    ]
    html = client.get("/?lang=zh-Hant").get_data(as_text=True)
    assert '<html lang="zh-Hant">' in html
    assert "示範連結" in html and "畫面" in html and "權杖" in html
    # a placeholder stays code, a name from the link is escaped, English is gone
    assert "需要 <code>display</code> 權杖" in html
    assert "櫃員操作台，&lt;b&gt;2&lt;/b&gt; 號櫃檯" in html
    assert '<a href="/board/hall?token=h">大廳看板</a>' in html
    assert "Demo links" not in html and "Needs a" not in html
    simplified = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "演示链接" in simplified and "令牌" in simplified
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Needs a <code>display</code> token" in english
    assert 'aria-current="page">English</a>' in english


def test_demo_links_stay_hidden_outside_demo_mode(app: Flask, client: FlaskClient) -> None:
    app.config["DEMO"] = False
    app.config["DEMO_LINKS"] = [{"label": "secret", "url": "/kiosk?token=abc"}]
    assert "token=abc" not in client.get("/").get_data(as_text=True)


def test_socketio_client_is_served_from_node_modules(client: FlaskClient) -> None:
    bundle = ROOT.joinpath(*boards.VENDOR_DIR, boards.VENDOR_FILE)
    assert bundle.is_file(), f"run `npm install` in {ROOT}: {bundle} is missing"
    response = client.get("/vendor/socket.io.min.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.get_data() == bundle.read_bytes()
    response.close()


def test_missing_socketio_client_is_a_clear_503(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(boards, "VENDOR_DIR", ("node_modules", "no-such-package"))
    response = client.get("/vendor/socket.io.min.js")
    assert response.status_code == 503
    assert "npm install" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "name",
    [
        "format.js",
        "live.js",
        "i18n.js",
        "announcer.js",
        "hall.js",
        "counter.js",
        "counter_view.js",
        "teller.js",
        "kiosk.js",
        "ticket.js",
    ],
)
def test_screen_scripts_are_served(client: FlaskClient, name: str) -> None:
    response = client.get(f"/static/js/{name}")
    assert response.status_code == 200
    assert response.get_data() == (Path(ROOT) / "static" / "js" / name).read_bytes()
    response.close()


def test_screen_scripts_never_write_html() -> None:
    """Data reach the DOM only through textContent: no innerHTML, outerHTML or insertAdjacentHTML."""
    for path in (ROOT / "static" / "js").glob("*.js"):
        text = path.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert sink not in text, f"{path.name} uses {sink}"
