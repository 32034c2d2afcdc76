"""The one place secrets are scrubbed from text before it is shown or stored.

Every message, log event, manifest and error row passes through :func:`redact` (or
:func:`redact_data` for JSON-like data) on its way out: the configured API key, any
``Bearer``/``Basic`` credential or ``sk-`` token (a server may echo the Authorization header
in an error body), the user:password part of URLs (``http://user:pw@host``) and URL query values
whose names look like credentials (``?api-key=…``, ``&token=…``). Article
text and results are never passed through it: they are the user's data, and offsets into
them must stay exact.
"""

import re
import sys
from collections.abc import Iterable
from typing import TextIO

MASK = "***"
# A configured key shorter than this is a placeholder ("test", "none"), not a secret; masking
# it would garble ordinary words in messages.
MIN_SECRET_CHARS = 8

_TOKEN = r"[A-Za-z0-9._~+/=-]+"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"(?i)\b(bearer|basic)(\s+){_TOKEN}"), rf"\1\2{MASK}"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{6,}"), f"sk-{MASK}"),
    # scheme://userinfo@ : userinfo cannot hold "/", "@" or whitespace unescaped
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"]+@"), rf"\1{MASK}@"),
    # a query value whose name looks like a credential (?api-key=…, &token=…, &client_secret=…): some
    # gateways take the key in the URL, and the base URL is shown in run.json and on stderr
    (re.compile(r"(?i)([?&;][\w.~-]*(?:key|token|secret|passw(?:or)?d|pwd|auth|sig(?:nature)?|credential|session)"
                r"[\w.~-]*=)[^&;#\s'\"<>]+"), rf"\1{MASK}"),
)

_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears from now on (the API key the run uses)."""
    if value and len(value) >= MIN_SECRET_CHARS:
        _secrets.add(value)


def registered_secrets() -> Iterable[str]:
    return frozenset(_secrets)


def redact(text: str) -> str:
    # Longest first, so a key that contains another registered key is masked whole.
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_data(value: object) -> object:
    """:func:`redact` every string inside dicts, lists and tuples (keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v) for v in value]
    return value


class RedactedStderr:
    """sys.stderr (looked up at each write, so test runners that swap it are honoured) with every
    write redacted: whatever the CLI prints, a message, a progress line or a hint, is scrubbed."""

    @property
    def _target(self) -> TextIO:
        # While a progress bar is live, sys.stderr is rich's proxy, which writes into the console
        # whose file is this object: unwrapped, a failure printed above the bar loops forever.
        target = sys.stderr
        while (proxied := getattr(target, "rich_proxied_file", None)) is not None:
            target = proxied
        return target

    def write(self, text: str) -> int:
        self._target.write(redact(text))
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def isatty(self) -> bool:
        return self._target.isatty()

    def fileno(self) -> int:
        return self._target.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._target, "encoding", None) or "utf-8"
