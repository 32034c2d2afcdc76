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


# Characters a URL never holds unescaped (RFC 3986): in a published file they could close an
# HTML attribute or a script (``"><script>``).
_UNSAFE_IN_URL = frozenset('"\'<>\\`{}|^')


def publishable_base_url(url: str) -> str | None:
    """Why ``url`` cannot prefix the published review URLs, or None when it can: an absolute http(s)
    URL with no credentials (``user:pw@`` would be published in every file), no query or fragment
    (the review paths go after it) and no character a URL must escape."""
    if web_url(url) is None:
        return "not an absolute http(s) URL (e.g. https://desk.example.org)"
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "holds credentials (user:password@), which would be published in every file; remove them"
    if unsafe := sorted({ch for ch in url if ch in _UNSAFE_IN_URL}):
        return f"holds {' '.join(unsafe)}, which a URL must escape (percent-encode them or leave them out)"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return "has a query or fragment (?…, #…); the review paths are added after it, so give the prefix alone"
    return None
