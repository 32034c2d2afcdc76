"""``factcheck merge OUT... --to OUT``: the folders of ``run --shard i/N`` joined into one, as if
one run had written it. Each folder is locked while it is read (a folder still being written is
refused), and so is the target; merging again, or into a folder that already holds results, is
safe: a result already there is kept unless the new one was made with an LLM and it was not
(a ``--no-llm`` result is upgraded, as a run would do).

The target gets every valid result (written atomically), every usage row, the error rows of the
articles that have no result, every skipped line, a results table rebuilt from its results, and
a run.json that names each merged run and adds up their counts."""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline._io import append_jsonl, write_bytes_atomic, write_json_atomic
from pipeline.run.lock import OutputLock
from pipeline.run.output import SKIPPED_FILE, check_out_dir, load_result, result_files, write_results_table
from pipeline.text.ingest import InputError

SUMMED = ("files", "done", "already_done", "failed", "not_started", "duplicates", "skipped_files", "unfinished")


@dataclass
class Merged:
    results: int = 0  # result files copied into the target
    kept: int = 0  # results the target held already (the same article from another share, or earlier)
    runs: list[dict[str, object]] = field(default_factory=list)


def merge(sources: list[Path], target: Path) -> Merged:
    for source in sources:
        if not (source / "run.json").is_file():
            raise InputError(f"{source}: not a factcheck output folder (no run.json)")
        if source.resolve() == target.resolve():
            raise InputError(f"{source}: is the target of the merge; name it once, with --to")
    check_out_dir(target)
    merged = Merged()
    with ExitStack() as locks:
        locks.enter_context(OutputLock(target))
        for source in sources:
            locks.enter_context(OutputLock(source))
        for source in sources:
            merged.runs.append(_merge_one(source, target, merged))
        _errors(sources, target)
        write_results_table(target)
        _manifest(target, merged)
    return merged


def _merge_one(source: Path, target: Path, merged: Merged) -> dict[str, object]:
    for path in result_files(source / "articles"):
        result = load_result(path)
        if result is None:
            continue  # unreadable: the next run on the target (or the share) redoes it
        destination = target / "articles" / path.name
        earlier = load_result(destination)
        if earlier is not None and not (earlier.run.backend == "none" and result.run.backend != "none"):
            merged.kept += 1
            continue
        write_bytes_atomic(destination, path.read_bytes())
        merged.results += 1
    rows = _rows(source / "usage.jsonl")
    if rows:
        append_jsonl(target / "usage.jsonl", *rows)
    if (skipped := source / SKIPPED_FILE).is_file():
        with (target / SKIPPED_FILE).open("a", encoding="utf-8") as out:
            out.write(skipped.read_text(encoding="utf-8"))
    run = json.loads((source / "run.json").read_text(encoding="utf-8"))
    return {
        "folder": str(source), "run_id": run.get("run_id"), "status": run.get("status"),
        "counts": run.get("counts", {}), "usage": run.get("usage", {}),
    }


def _errors(sources: list[Path], target: Path) -> None:
    """The failures of every share whose article has no result in the target: errors.jsonl
    describes what is still to do."""
    done = {path.stem for path in result_files(target / "articles")}
    rows = [row for source in sources for row in _rows(source / "errors.jsonl") if row.get("article") not in done]
    if rows:
        append_jsonl(target / "errors.jsonl", *rows)


def _manifest(target: Path, merged: Merged) -> None:
    statuses = {str(run["status"]) for run in merged.runs}
    status = "complete" if statuses == {"complete"} else next(
        (s for s in ("failed", "stopped", "interrupted", "running", "budget_exhausted") if s in statuses), "complete"
    )
    counts = {
        name: sum(int(run["counts"].get(name) or 0) for run in merged.runs)  # type: ignore[union-attr]
        for name in SUMMED
    }
    usage: dict[str, float] = {}
    for run in merged.runs:
        for name, value in dict(run["usage"]).items():  # type: ignore[call-overload]
            if isinstance(value, int | float):
                usage[name] = round(usage.get(name, 0) + value, 6)
    write_json_atomic(target / "run.json", {
        "run_id": "merged-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
        "status": status,
        "updated_at": datetime.now(UTC).isoformat(),
        "merged_from": merged.runs,
        "counts": {**counts, "results": sum(1 for _ in result_files(target / "articles"))},
        "usage": usage,
        "errors": {"file": "errors.jsonl"},
    })


def _rows(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue  # a line cut by a kill: the rest is whole (each row is one append)
    return rows
