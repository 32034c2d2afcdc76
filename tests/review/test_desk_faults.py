"""The desk on a folder it cannot write: a full disk (the file size limit, a real kernel fault) or a
read-only run folder. The POST answers 507 or 503 with what to fix, the log is never emptied or torn,
and the desk's log has a line, not a traceback. (Issue 32, item 6; the page's side: test_app_browser.py.)"""

import json
from pathlib import Path

import httpx
import pytest
from cli_process import env_for
from review_fixtures import MUSK_PUTIN_CLAIM, build_seed_run, desk_process, seed_ids

from pipeline.review.store import REVIEWS_FILE


def file_size_limit(size: int) -> str:
    """Python run before the desk: files cannot grow past ``size`` bytes (EFBIG, as when a disk fills)."""
    return f"import resource\nresource.setrlimit(resource.RLIMIT_FSIZE, ({size}, {size}))"


def override(base: str, reason: str = "the denial outweighs the second-hand account") -> httpx.Response:
    musk_id, _ = seed_ids()
    return httpx.post(
        f"{base}/api/articles/{musk_id}/claims/{MUSK_PUTIN_CLAIM}/reviews",
        json={"action": "override", "reviewer": "Ann", "verdict": "refuted", "reason": reason},
        headers={"Origin": base}, timeout=10,
    )


def leftovers(run_dir: Path) -> list[str]:
    return sorted(p.name for p in run_dir.iterdir() if p.name.startswith("."))


def test_the_first_review_on_a_full_disk_is_507_and_leaves_no_empty_log(tmp_path: Path) -> None:
    run_dir = build_seed_run(tmp_path / "run")
    with desk_process(run_dir, env_for(tmp_path), before=file_size_limit(0)) as (base, log):
        answer = override(base)
        assert answer.status_code == 507, answer.text
        message = answer.json()["error"]
        assert message.startswith(f"{run_dir.resolve() / REVIEWS_FILE}: file size limit reached; free space")
        assert "NOT saved" in message and "save again" in message
    assert not (run_dir / REVIEWS_FILE).exists() and leftovers(run_dir) == []  # was: a 0-byte reviews.jsonl
    assert not any("Traceback" in line for line in log) and any("review not saved" in line for line in log), log
    with desk_process(run_dir, env_for(tmp_path)) as (base, _):  # room again: the same save goes through
        assert override(base).status_code == 201


def test_a_review_the_disk_cannot_take_leaves_the_log_as_it_was(tmp_path: Path) -> None:
    """The disk fills in the middle of the line: the part written is cut back, every earlier event kept."""
    run_dir = build_seed_run(tmp_path / "run")
    with desk_process(run_dir, env_for(tmp_path)) as (base, _):
        assert override(base, "first reason").status_code == 201
    before = (run_dir / REVIEWS_FILE).read_bytes()
    with desk_process(run_dir, env_for(tmp_path), before=file_size_limit(len(before) + 40)) as (base, log):
        answer = override(base, "second reason")
        assert answer.status_code == 507, answer.text
    assert (run_dir / REVIEWS_FILE).read_bytes() == before
    assert [json.loads(line)["reason"] for line in before.splitlines()] == ["first reason"]
    assert not any("Traceback" in line for line in log), log


def test_a_review_on_a_read_only_run_folder_is_503_with_the_fix(tmp_path: Path) -> None:
    run_dir = build_seed_run(tmp_path / "run")
    run_dir.chmod(0o555)
    try:
        with desk_process(run_dir, env_for(tmp_path), bound_by_permissions=True) as (base, log):
            page = httpx.get(f"{base}/", timeout=10)
            assert page.status_code == 200  # reading still works
            answer = override(base)
    finally:
        run_dir.chmod(0o755)
    if answer.status_code == 201:
        pytest.skip("this user can write a folder without write permission")
    assert answer.status_code == 503, answer.text
    log_path = run_dir.resolve() / REVIEWS_FILE
    assert answer.json()["error"].startswith(f"{log_path}: permission denied; make the run folder")
    assert not (run_dir / REVIEWS_FILE).exists()
    assert not any("Traceback" in line for line in log), log
