"""Atomic writes (``pipeline/_io.py``): a file written through a temp file and a rename gets the mode
a plain ``open()`` would give it, not mkstemp's 0600 (the stance model's card was written 0600)."""

import stat
from pathlib import Path

from pipeline._io import write_bytes_atomic, write_text_atomic


def _plain_mode(tmp_path: Path) -> int:
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    return stat.S_IMODE(plain.stat().st_mode)


def test_atomic_writes_get_the_mode_open_gives(tmp_path: Path) -> None:
    write_text_atomic(tmp_path / "card.json", "{}\n")
    write_bytes_atomic(tmp_path / "model.onnx", b"\x08\x01")
    expected = _plain_mode(tmp_path)
    assert expected != 0o600  # the usual umask: 0644
    for name in ("card.json", "model.onnx"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == expected, name
    assert not list(tmp_path.glob(".*.tmp"))
