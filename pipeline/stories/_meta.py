"""Where and when an article appeared, as far as its input said: outlet and ISO date."""

import re
from datetime import date
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

_ISO_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})")


def outlet_of(outlet: str | None, url: str | None) -> str | None:
    """The outlet the input named; else the host of its http(s) URL, without ``www.``."""
    if outlet and outlet.strip():
        return outlet.strip()
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:  # an invalid IPv6 host
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return host.removeprefix("www.")


def iso_date(published: str | None) -> str | None:
    """``YYYY-MM-DD`` from an ISO date or timestamp (what trafilatura and most feeds give) or an
    RFC 2822 date (RSS); None when the text is not a date we can read, rather than a guess."""
    if not published:
        return None
    if match := _ISO_DATE.match(published):
        try:
            return date.fromisoformat(match.group(1)).isoformat()
        except ValueError:
            return None
    try:
        return parsedate_to_datetime(published.strip()).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return None
