"""Expected errors and credential masking."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/?#@\s]*:)(?P<pw>[^@/\s]*)(?P<tail>@)")


class LoaderError(Exception):
    """An expected problem (bad input, unreachable database, ...): reported as one line, no traceback."""


class Secrets:
    """Collects passwords seen in URLs so that no message or log line prints them."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add_url(self, url: str) -> None:
        try:
            password = urlsplit(url).password
        except ValueError:
            password = None
        if password:
            self._values.add(password)
            self._values.add(unquote(password))

    def mask(self, text: str) -> str:
        text = mask_url_passwords(text)
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, "***")
        return text


def mask_url_passwords(text: str) -> str:
    """Replace the password of every ``scheme://user:password@host`` URL in ``text`` with ``***``."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}***{m.group('tail')}", text)
