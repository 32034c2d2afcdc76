"""Which article URLs may become links: only absolute http(s) URLs. An article's ``url`` comes
from its input file, so ``javascript:``, ``data:`` and ``file:`` URLs would run script or open
local files from the exported report (which has no CSP) and the desk."""

from urllib.parse import urlsplit

WEB_SCHEMES = frozenset({"http", "https"})


def web_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL with a host, else None (shown as text, not linked)."""
    if not url or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return None  # browsers drop tabs and newlines inside a scheme ("java\tscript:"): refuse them all
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    return url if parts.scheme.lower() in WEB_SCHEMES and parts.netloc else None
