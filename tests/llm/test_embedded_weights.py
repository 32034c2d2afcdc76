"""The embedded model's weights are checked before the server may open them; the full hash is
skipped only while the file is provably the one that last matched."""

import hashlib
import os
import time
from pathlib import Path

import pytest

from pipeline.llm import embedded
from pipeline.llm.embedded import EmbeddedModelError, Weights, ensure_weights

CONTENT = b"GGUF" + bytes(range(256)) * 64


def settled(path: Path, content: bytes) -> None:
    """Write, then wait past the window in which a fresh write is not trusted (file times are coarse)."""
    path.write_bytes(content)
    time.sleep(0.15)


def weights_for(content: bytes) -> Weights:
    return Weights(
        name="tiny",
        filename="tiny.gguf",
        package_prefix="tiny-part",
        parts=1,
        version="1.0",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file the check hashes in full, in order."""
    seen: list[Path] = []
    real = embedded._sha256

    def counting(path: Path) -> str:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(embedded, "_sha256", counting)
    return seen


def test_a_verified_file_is_hashed_once_then_trusted_while_unchanged(tmp_path: Path, hashes: list[Path]) -> None:
    settled(tmp_path / "tiny.gguf", CONTENT)
    weights = weights_for(CONTENT)
    assert ensure_weights(weights, tmp_path) == tmp_path / "tiny.gguf"
    assert ensure_weights(weights, tmp_path) == tmp_path / "tiny.gguf"
    assert hashes == [tmp_path / "tiny.gguf"]


def test_a_file_rewritten_after_its_check_is_hashed_again_and_refused(tmp_path: Path, hashes: list[Path]) -> None:
    target = tmp_path / "tiny.gguf"
    settled(target, CONTENT)
    weights = weights_for(CONTENT)
    ensure_weights(weights, tmp_path)
    before = target.stat()
    tampered = bytearray(CONTENT)
    tampered[100] ^= 0xFF  # same size, and the modification time put back: only ctime tells
    target.write_bytes(bytes(tampered))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(EmbeddedModelError, match="sha256"):
        ensure_weights(weights, tmp_path)
    assert len(hashes) == 2
    target.write_bytes(CONTENT)  # the refusal left no stamp behind that could vouch for it later
    assert not (tmp_path / "tiny.gguf.verified").exists()


def test_a_replaced_file_is_hashed_again(tmp_path: Path, hashes: list[Path]) -> None:
    target = tmp_path / "tiny.gguf"
    settled(target, CONTENT)
    weights = weights_for(CONTENT)
    ensure_weights(weights, tmp_path)
    replacement = tmp_path / "other"
    settled(replacement, CONTENT)
    os.replace(replacement, target)
    ensure_weights(weights, tmp_path)
    assert len(hashes) == 2


def test_a_stamp_for_other_weights_does_not_vouch_for_this_file(tmp_path: Path, hashes: list[Path]) -> None:
    (tmp_path / "tiny.gguf").write_bytes(CONTENT)
    ensure_weights(weights_for(CONTENT), tmp_path)
    pinned_elsewhere = Weights(**{**weights_for(CONTENT).__dict__, "sha256": "0" * 64})
    with pytest.raises(EmbeddedModelError, match="expected 0000"):
        ensure_weights(pinned_elsewhere, tmp_path)


@pytest.mark.parametrize("stamp", ["", "{not json", "[]", '{"sha256": 1}'])
def test_an_unreadable_stamp_means_a_full_check(tmp_path: Path, hashes: list[Path], stamp: str) -> None:
    (tmp_path / "tiny.gguf").write_bytes(CONTENT)
    (tmp_path / "tiny.gguf.verified").write_text(stamp)
    ensure_weights(weights_for(CONTENT), tmp_path)
    assert len(hashes) == 1


def test_a_wrong_size_is_refused_before_any_hashing(tmp_path: Path, hashes: list[Path]) -> None:
    (tmp_path / "tiny.gguf").write_bytes(CONTENT[:-1])
    with pytest.raises(EmbeddedModelError, match="size"):
        ensure_weights(weights_for(CONTENT), tmp_path)
    assert hashes == []


def test_a_file_written_just_before_its_check_is_not_stamped(tmp_path: Path, hashes: list[Path]) -> None:
    # a write right after the hash could share the fresh file's ctime; so it is hashed next time too
    (tmp_path / "tiny.gguf").write_bytes(CONTENT)
    ensure_weights(weights_for(CONTENT), tmp_path)
    ensure_weights(weights_for(CONTENT), tmp_path)
    assert len(hashes) == 2
