"""Shared by the ``ray`` tests: runs with either engine, comparisons of output folders up to
timings, and the ShardRunner processes this test process started."""

import asyncio
import json
import os
import shutil
from pathlib import Path

from pipeline.llm.client import LLM
from pipeline.run.driver import run
from pipeline.run.inputs import discover
from pipeline.run.manifest import RunSummary
from pipeline.run.ray_engine import RayEngine
from pipeline.settings import Settings
from pipeline.testing.articles import write_articles
from pipeline.testing.fake_openai import FakeOpenAI

MODEL = "gpt-4o-mini"
TIMINGS = ("seconds", "started_at")


def settings_for(tmp_path: Path, fake: FakeOpenAI | None = None, cache: str = "cache", **overrides: object) -> Settings:
    values: dict[str, object] = {"cache_dir": tmp_path / cache, "timeout": 5.0, "max_attempts": 4, "concurrency": 2}
    if fake is not None:
        # the LLM verifier too (auto is the trained one): these tests count claims and verify calls
        values.update(backend="openai", base_url=fake.base_url, api_key="test", model=MODEL, verifier="llm")
    return Settings(**{**values, **overrides})


def analyse(
    inputs: Path, out: Path, settings: Settings, *, engine: str, no_llm: bool = False, resume: bool = True,
    actors: int = 2, shard_size: int = 4,
) -> tuple[RunSummary, RayEngine | None]:
    """One run of ``inputs`` into ``out`` with ``engine`` (local or ray; ray on the cluster this
    process joined); the Ray engine is returned too, for its figures."""
    files, missing = discover([inputs], exclude=out)
    made: list[RayEngine] = []

    def ray_engine(price: object) -> RayEngine:
        made.append(RayEngine(settings, out, price, no_llm=no_llm, resume=resume, actors_per_node=actors,  # type: ignore[arg-type]
                              shard_size=shard_size))
        return made[0]

    async def go() -> RunSummary:
        llm = None if no_llm else LLM(
            backend="openai", base_url=settings.base_url, api_key="test", model=MODEL, timeout=settings.timeout,
            max_attempts=settings.max_attempts,
        )
        try:
            return await run(llm, files, missing, out, settings, resume=resume,
                             engine=ray_engine if engine == "ray" else None)
        finally:
            if llm is not None:
                await llm.close()

    summary = asyncio.run(go())
    return summary, made[0] if made else None


def mixed_inputs(folder: Path, count: int = 20) -> Path:
    """``count`` articles, the same text twice (analysed once), a file of another type (skipped)
    and an unreadable one (failed at ingest)."""
    paths = write_articles(folder, count)
    shutil.copy(paths[3], folder / "zz-same-as-3.txt")
    (folder / "notes.csv").write_text("a,b\n", encoding="utf-8")
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    return folder


def without_timings(data: object) -> object:
    if isinstance(data, dict):
        return {k: without_timings(v) for k, v in data.items() if k not in TIMINGS and k not in ("run_id", "at")}
    if isinstance(data, list):
        return [without_timings(v) for v in data]
    return data


def results(out: Path) -> dict[str, object]:
    return {p.name: without_timings(json.loads(p.read_text())) for p in sorted((out / "articles").glob("*.json"))}


def rows(path: Path) -> list[str]:
    """A JSON-lines file's rows without timings or run ids, sorted: the same set whatever the order."""
    if not path.exists():
        return []
    return sorted(
        json.dumps(without_timings(json.loads(line)), sort_keys=True) for line in path.read_text().splitlines()
    )


def lines(path: Path) -> list[str]:
    return sorted(path.read_text().splitlines()) if path.exists() else []


def shard_runners() -> list[int]:
    """The pids of the ShardRunner actors among this process's descendants: only what this test started."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, pending = [], [os.getpid()]
    while pending:
        for child in children.get(pending.pop(), []):
            pending.append(child)
            try:
                if Path(f"/proc/{child}/cmdline").read_bytes().startswith(b"ray::ShardRunner"):
                    found.append(child)
            except OSError:
                continue
    return found
