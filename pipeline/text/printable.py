"""Names from the outside world (file names, above all) made safe to print on one line.

A file may be named ``e\\nFAKE LINE: 99 analysed.txt`` or hold an ESC byte: printed raw, it forges a
line of the run's summary or drives the terminal. Every line a person reads (stderr, skipped.txt)
passes through :func:`printable`, which writes control characters as JSON writes them in
errors.jsonl (``\\n``, ``\\u001b``), so a name reads the same everywhere. JSON outputs keep the
name as it is: JSON escapes it already.
"""

import re

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
# C0 and C1 controls, DEL, the Unicode line and paragraph separators (a terminal or an editor may
# break the line there) and the bidirectional overrides (they reorder what is shown).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every control character escaped: one line, shown as it is named."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(), f"\\u{ord(m.group()):04x}"), text)
