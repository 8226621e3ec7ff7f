"""Markers for the translation catalogue: the core writes English sentences, the web layer translates.

``pybabel extract`` finds the strings these functions are called with (see babel.cfg); the
functions themselves return their argument unchanged, so the core never depends on Babel.
"""

from __future__ import annotations

#: the gettext context of vocabulary words: "waiting" as a status is not "waiting" as in "3 waiting"
WORD = "word"


def N_(template: str) -> str:
    """Mark a sentence for the catalogue; it is translated later, for whoever reads the answer."""
    return template


def NC_(context: str, word: str) -> str:
    """Mark ``word`` for the catalogue under ``context`` (``pybabel extract -k NC_:1c,2``)."""
    del context
    return word
