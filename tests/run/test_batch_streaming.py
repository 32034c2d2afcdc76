"""Batch runs stream their inputs: memory must not grow with the folder or the JSONL file."""

import asyncio
import json
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.llm.client import LLM
from pipeline.run.inputs import Inputs, discover
from pipeline.run.manifest import RunSummary
from pipeline.run.output import SKIPPED_LISTED
from pipeline.run.progress import Reporter
from pipeline.run.driver import run
from pipeline.settings import Settings
from pipeline.testing.articles import article_text, write_articles
from pipeline.testing.fake_openai import FakeOpenAI
from pipeline.text.ingest import InputError, read_articles


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(latency=0.0) as server:
        yield server


def analyse(
    fake: FakeOpenAI, inputs: list[Path], out: Path, tmp_path: Path, concurrency: int = 2,
    reporter: Reporter | None = None,
) -> RunSummary:
    settings = Settings(cache_dir=tmp_path / "cache", concurrency=concurrency, timeout=5.0)  # type: ignore[call-arg]
    llm = LLM(backend="openai", base_url=fake.base_url, api_key="test", model="gpt-4o-mini", timeout=5.0)
    files, skipped = discover(inputs, exclude=out)

    async def go() -> RunSummary:
        try:
            return await run(llm, files, skipped, out, settings, reporter=reporter)
        finally:
            await llm.close()

    return asyncio.run(go())


def test_discovery_finds_files_as_it_walks(tmp_path: Path) -> None:
    write_articles(tmp_path / "in", 3)
    files, _ = discover([tmp_path / "in"])
    walk = iter(files)
    first = next(walk)  # found before the folder was listed in full
    (tmp_path / "in" / "late.txt").write_text("Written after the walk started.\n", encoding="utf-8")
    names = {first.name, *(p.name for p in walk)}
    assert {f"article-{i:05d}.txt" for i in range(3)} <= names
    assert bool(Inputs([tmp_path / "in"])) and not Inputs([tmp_path / "empty-does-not-exist"])


def test_a_big_jsonl_file_is_read_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "wire.jsonl"
    line = json.dumps({"text": "x" * 50_000}) + "\n"
    with path.open("w", encoding="utf-8") as f:
        for i in range(200):  # 10 MB
            f.write(line.replace('"x', f'"{i} x', 1))
    tracemalloc.start()
    try:
        count = 0
        for article in read_articles(path):
            count += 1
            assert article.meta.source == f"{path}:{count}"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 200
    assert peak < 2_000_000, f"peak {peak} bytes: the whole file was read at once"


def test_jsonl_errors_name_the_line_or_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b'{"text": "One."}\r\n\n{"text": \n')
    articles = read_articles(broken)
    assert next(articles).text == "One."
    with pytest.raises(InputError, match=r"broken.jsonl:3: invalid JSON"):
        next(articles)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"text": "ok"}\n{"text": "Caf\xe9"}\n')
    with pytest.raises(InputError, match=r"not UTF-8 text \(invalid byte at offset 28\)"):
        list(read_articles(latin))
    blank = tmp_path / "blank.jsonl"
    blank.write_bytes(b"\n  \n")
    with pytest.raises(InputError, match="empty"):
        list(read_articles(blank))


def test_the_run_holds_only_the_articles_in_flight(
    fake: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Articles are read as the workers take them: when the first one is done, the producer has
    read the workers' articles and a queue as long as the concurrency, not the folder."""
    count, concurrency = 60, 2
    write_articles(tmp_path / "in", count)
    read = 0
    path_open = Path.open

    def counting(self: Path, mode: str = "r", *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        nonlocal read
        read += self.suffix == ".txt" and "r" in mode  # article files opened to be read (results are .json)
        return path_open(self, mode, *args, **kwargs)  # type: ignore[arg-type]

    read_at_done: list[int] = []

    class Reads:
        def emit(self, event: str, **fields: object) -> None:
            if event == "article_done":
                read_at_done.append(read)

        def close(self) -> None:
            pass

    monkeypatch.setattr(Path, "open", counting)
    summary = analyse(fake, [tmp_path / "in"], tmp_path / "out", tmp_path, concurrency, Reads())
    assert summary.done == count and read == count
    first = read_at_done[0]
    assert first <= 3 * concurrency + 1, f"{first} of {count} files read before the first article was done"
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    assert manifest["counts"]["files"] == count


def test_skipped_files_are_capped_in_the_manifest_and_all_listed_in_a_file(fake: FakeOpenAI, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_articles(inputs, 2)
    junk = SKIPPED_LISTED + 20
    for i in range(junk):
        (inputs / f"scan-{i}.pdf").write_bytes(b"%PDF")
    (inputs / "copy.txt").write_text(article_text(0), encoding="utf-8")
    out = tmp_path / "out"
    summary = analyse(fake, [inputs, tmp_path / "gone"], out, tmp_path)
    assert summary.done == 2 and summary.duplicates == 1
    listed = (out / "skipped.txt").read_text(encoding="utf-8").splitlines()
    assert len(listed) == junk + 1  # every .pdf and the duplicate
    assert any("same text as" in line for line in listed)
    # A missing input is not skipped quietly: it is a failure, so the run exits 3.
    assert summary.failed == 1
    [missing] = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert missing["stage"] == "input" and missing["reason"].endswith("gone: no such file or folder")
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["counts"]["skipped_files"] == junk + 1
    assert len(manifest["skipped_files"]) == SKIPPED_LISTED + 1
    assert manifest["skipped_files"][-1].startswith(f"... and {junk + 1 - SKIPPED_LISTED} more")
    assert manifest["skipped_list"] == "skipped.txt"

    # A later run rewrites the list: nothing skipped, no list.
    for i in range(junk):
        os.remove(inputs / f"scan-{i}.pdf")
    (inputs / "copy.txt").unlink()
    again = analyse(fake, [inputs], out, tmp_path)
    assert again.reused == 2 and again.skipped == 0
    assert not (out / "skipped.txt").exists()
