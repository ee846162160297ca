"""gettext catalogs for every user-facing text. Message ids are keys (``signup.full``); zh_CN is the
default language and en the second, and both catalogs must hold every key (a test checks).
Catalogs are read from the .po files with Babel at start-up, so no compiled .mo is kept in git."""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "stvs"
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
HERE = Path(__file__).parent


def po_files(language: str) -> list[Path]:
    """One .po file per area (errors, chat, cli…), merged into one catalog per language."""
    return sorted((HERE / language / "LC_MESSAGES").glob("*.po"))


def read_catalog(language: str) -> Catalog:
    merged = Catalog(locale=language, domain=DOMAIN)
    for path in po_files(language):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if message.id:
                    merged.add(message.id, message.string)
    return merged


@cache
def catalog(language: str) -> gettext.GNUTranslations:
    buffer = BytesIO()
    write_mo(buffer, read_catalog(language))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Translator:
    """Looks a key up in one language and fills in its {named} parameters."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._catalog = catalog(self.language)

    def __call__(self, key: str, **params: Any) -> str:
        text = self._catalog.gettext(key)
        if not params:
            return text
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text

    def has(self, key: str) -> bool:
        return self._catalog.gettext(key) != key


def translator(language: str | None) -> Translator:
    return _translator(language if language in LANGUAGES else DEFAULT_LANGUAGE)


@cache
def _translator(language: str) -> Translator:
    return Translator(language)
