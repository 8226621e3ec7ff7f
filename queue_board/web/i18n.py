"""Languages of the screens: Flask-Babel for what the server renders, one catalogue for the browser.

The screens speak ``en``, ``zh-Hant`` and ``zh-Hans`` (the names the branch configuration uses).
Translations live in ``translations/<locale>/LC_MESSAGES/messages.po`` (Babel locales ``zh_Hant``
and ``zh_Hans``); the same catalogues, compiled, are served to the browser as one ES module
(``/i18n/catalogue.js``) so that a board can switch or rotate its language without a reload.
Update them with::

    pybabel extract -F babel.cfg -k NC_:1c,2 --no-location --sort-output --omit-header --no-wrap -o translations/messages.pot .
    pybabel update --no-wrap --no-fuzzy-matching -i translations/messages.pot -d translations
    pybabel compile -d translations
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel
from markupsafe import Markup

from queue_board.config import ROOT
from queue_board.core.text import N_
from queue_board.web.service import current_service

#: the screens' languages, as the branch configuration names them
LANGUAGES = ("en", "zh-Hant", "zh-Hans")
#: the Babel locale of each language (the folder names under ``translations/``)
BABEL_LOCALES = {"en": "en", "zh-Hant": "zh_Hant", "zh-Hans": "zh_Hans"}
#: what a language calls itself, for language switches
NATIVE_NAMES = {"en": "English", "zh-Hant": "繁體中文", "zh-Hans": "简体中文"}
TRANSLATIONS = ROOT / "translations"

#: Flask-Babel, bound to each app by :func:`init_babel` (from the factory)
babel = Babel()


def init_babel(app: Flask) -> None:
    """Bind Flask-Babel to ``app`` with the page's language as its locale, and give the templates
    the language helpers. The factory calls it once; a second call changes nothing."""
    if "babel" in app.extensions:
        return
    babel.init_app(
        app,
        default_locale="en",
        default_translation_directories=str(TRANSLATIONS),
        locale_selector=lambda: BABEL_LOCALES[page_language()],
    )
    # N_ marks a string for the catalogue where it is translated later, as in the JS (`_(reason)`)
    app.jinja_env.globals.update(
        page_language=page_language, native_names=NATIVE_NAMES, N_=N_, markup_code=markup_code
    )


def markup_code(text: str) -> Markup:
    """``text`` (escaped) as inline code, to be put into a translated sentence as a placeholder:
    a translator moves it, never edits it."""
    return Markup("<code>{}</code>").format(text)


def normalise(tag: str | None) -> str | None:
    """One of :data:`LANGUAGES` for a language tag (``zh-TW`` → ``zh-Hant``), or ``None``."""
    if not tag:
        return None
    parts = tag.replace("_", "-").strip().lower().split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] != "zh":
        return None
    rest = set(parts[1:])
    if rest & {"hant", "tw", "hk", "mo"}:
        return "zh-Hant"
    return "zh-Hans"


def _browser_language(allowed: tuple[str, ...]) -> str | None:
    for tag, _quality in request.accept_languages:
        language = normalise(tag)
        if language in allowed:
            return language
    return None


def page_language() -> str:
    """The language of this page: ``?lang=``, else (the ticket page) the phone's, else the branch's first."""
    if not has_request_context():
        return "en"
    cached: str | None = g.get("page_language")
    if cached is not None:
        return cached
    branch = request.args.get("branch") or g.get("page_branch") or current_app.config["DEFAULT_BRANCH"]
    try:
        configured = tuple(current_service().config(branch).languages) or LANGUAGES
    except Exception:  # an unknown or broken branch still gets a page in some language
        configured = LANGUAGES
    language = normalise(request.args.get("lang"))
    if language is None and g.get("prefer_browser_language"):
        language = _browser_language(configured) or _browser_language(LANGUAGES)
    if language is None:
        language = configured[0] if configured[0] in LANGUAGES else "en"
    g.page_language = language
    return language


def reader_translations() -> NullTranslations | None:
    """The catalogue of the language an API client asked for with ``Accept-Language`` (a
    screen sends its own), or ``None`` for English. Unlike pages, the API never guesses from
    the branch: a program that asks for nothing gets English."""
    language = _browser_language(LANGUAGES) if has_request_context() else None
    if language is None or language == "en":
        return None
    return _translations(BABEL_LOCALES[language])


@lru_cache(maxsize=4)
def _translations(locale: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [locale])


@lru_cache(maxsize=4)
def _catalogue(stamp: tuple[float, ...]) -> str:
    """The browser's catalogue: every language's compiled messages, as a JS module."""
    del stamp  # only the cache key: recompiled catalogues are picked up without a restart
    out: dict[str, dict[str, Any]] = {}
    for language, locale in BABEL_LOCALES.items():
        messages: dict[str, Any] = {}
        if language != "en":
            translations = Translations.load(str(TRANSLATIONS), [locale])
            catalog: dict[Any, str] = getattr(translations, "_catalog", {})
            for key, text in catalog.items():
                if isinstance(key, tuple):  # (msgid, plural index)
                    msgid, index = key
                    forms = messages.setdefault(msgid, [])
                    if isinstance(forms, list):
                        forms.extend([""] * (index + 1 - len(forms)))
                        forms[index] = text
                elif key:  # "" is the header
                    messages[key] = text
        out[language] = messages
    body = json.dumps(out, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (
        "// The screens' catalogue, compiled from translations/*/LC_MESSAGES/messages.po (see i18n.py).\n"
        f"export default {body};\n"
    )


def catalogue_module() -> str:
    """The catalogue module, rebuilt when a compiled catalogue changes."""
    stamp = tuple(
        (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").stat().st_mtime
        if (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").is_file()
        else 0.0
        for locale in BABEL_LOCALES.values()
    )
    return _catalogue(stamp)
