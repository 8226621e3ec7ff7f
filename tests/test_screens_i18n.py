"""Languages: complete catalogues, the page language, and one catalogue shared by server and browser."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Flask
from flask.testing import FlaskClient

from queue_board import ROOT
from queue_board.web.i18n import BABEL_LOCALES, TRANSLATIONS, init_babel, normalise

LOCALES = [locale for language, locale in BABEL_LOCALES.items() if language != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted_ids() -> set[str]:
    """Every message the sources mark, found the way ``pybabel extract -F babel.cfg`` finds them."""
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    ids: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords={"_": None, "N_": None, "ngettext": (1, 2), "gettext": None}
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def catalog(locale: str) -> Any:
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_marked_string_is_translated(locale: str) -> None:
    po = catalog(locale)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in po
        if m.id and m.string and all(m.string if isinstance(m.string, tuple) else [m.string]) and not m.fuzzy
    }
    marked = extracted_ids()
    assert len(marked) > 150 and "Now serving" in marked and "%(num)s person waiting" in marked
    missing = sorted(marked - translated)
    assert not missing, f"{locale} lacks translations for {missing[:10]} (run pybabel extract/update, then translate)"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_every_placeholder(locale: str) -> None:
    for message in catalog(locale):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, (message.id, text)


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogues_match_their_sources(locale: str) -> None:
    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    compiled = io.BytesIO()
    write_mo(compiled, catalog(locale))
    compiled.seek(0)
    expected = {str(m.id): m.string for m in read_mo(compiled) if m.id}
    with open(folder / "messages.mo", "rb") as mo:
        actual = {str(m.id): m.string for m in read_mo(mo) if m.id}
    assert actual == expected, f"run `pybabel compile -d translations`: {folder / 'messages.mo'} is stale"


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("en-GB", "en"),
        ("zh-TW", "zh-Hant"),
        ("zh_Hant", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-CN", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("fr", None),
        ("", None),
    ],
)
def test_language_tags_are_normalised(tag: str, language: str | None) -> None:
    assert normalise(tag) == language


@pytest.mark.parametrize(
    ("query", "lang", "title", "heading"),
    [
        ("", "en", "Hall board", "Now serving"),
        ("?lang=zh-Hant", "zh-Hant", "大廳看板", "現正服務"),
        ("?lang=zh-CN", "zh-Hans", "大厅看板", "正在服务"),
    ],
)
def test_boards_render_in_the_language_asked_for(
    client: FlaskClient, query: str, lang: str, title: str, heading: str
) -> None:
    html = client.get(f"/board/hall{query}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert f"<title>{title} — queue_board</title>" in html
    assert f'data-i18n="Now serving">{heading}</h2>' in html


def test_a_board_defaults_to_the_branch_first_language(app: Flask, client: FlaskClient) -> None:
    config = app.extensions["queue_board"].config("main").to_dict()
    app.extensions["queue_board"].set_config("main", {**config, "languages": ["zh-Hant", "en"]})
    assert '<html lang="zh-Hant">' in client.get("/board/hall").get_data(as_text=True)
    # the phone's language wins on a customer's own ticket page, the branch's on the boards
    headers = {"Accept-Language": "zh-CN,zh;q=0.9"}
    assert '<html lang="zh-Hant">' in client.get("/kiosk", headers=headers).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in client.get("/t/bad-link", headers=headers).get_data(as_text=True)


def test_init_babel_is_idempotent(app: Flask) -> None:
    babel = app.extensions["babel"]
    init_babel(app)
    assert app.extensions["babel"] is babel


def test_the_browser_catalogue_is_compiled_from_the_same_translations(client: FlaskClient) -> None:
    response = client.get("/i18n/catalogue.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    body = response.get_data(as_text=True)
    data = json.loads(body[body.index("export default ") + len("export default ") : body.rindex(";")])
    assert set(data) == {"en", "zh-Hant", "zh-Hans"}
    assert data["en"] == {}
    assert data["zh-Hant"]["Now serving"] == "現正服務"
    assert data["zh-Hans"]["back shortly"] == "马上回来"
    assert data["zh-Hant"]["%(num)s person waiting"] == ["%(num)s 人等候中"]
    again = client.get("/i18n/catalogue.js", headers={"If-None-Match": response.headers["ETag"].strip('"')})
    assert again.status_code == 304


class I18nElements(HTMLParser):
    """Collect ``data-i18n`` keys with the text the server rendered inside them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, Any] | None, str]] = []
        self.stack: list[tuple[str, dict[str, Any] | None, list[str]] | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("input", "img", "meta", "link", "br"):
            return
        values = dict(attrs)
        key = values.get("data-i18n")
        args = json.loads(values["data-i18n-args"] or "{}") if values.get("data-i18n-args") else None
        self.stack.append((key, args, []) if key else None)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("input", "img", "meta", "link", "br") or not self.stack:
            return
        entry = self.stack.pop()
        if entry is not None:
            self.found.append((entry[0], entry[1], "".join(entry[2])))
        for outer in self.stack:
            if outer is not None and entry is not None:
                outer[2].append(entry[2][0] if entry[2] else "")

    def handle_data(self, data: str) -> None:
        for entry in self.stack:
            if entry is not None:
                entry[2].append(data)


@pytest.mark.parametrize("path", ["/board/hall", "/board/counter/3", "/teller/2", "/kiosk", "/t/bad-link"])
@pytest.mark.parametrize("lang", ["en", "zh-Hant", "zh-Hans"])
def test_server_and_browser_say_the_same_thing(client: FlaskClient, path: str, lang: str) -> None:
    """What the server renders in a [data-i18n] element is what the browser writes there on a switch."""
    parser = I18nElements()
    parser.feed(client.get(f"{path}?lang={lang}").get_data(as_text=True))
    assert parser.found, path
    translations = Translations.load(str(TRANSLATIONS), [BABEL_LOCALES[lang]])
    for key, args, text in parser.found:
        expected = translations.gettext(key)
        if args:
            expected = expected % args
        assert text.strip() == expected, (path, lang, key)
