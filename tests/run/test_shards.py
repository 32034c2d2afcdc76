"""``run --shard i/N`` and ``factcheck merge``: N machines side by side on one input, without Ray,
joined into the folder one run would have written."""

import json
import subprocess
from pathlib import Path

from cli_process import FACTCHECK, env_for
from ray_run import lines, mixed_inputs, results, rows

from pipeline.run.inputs import Inputs
from pipeline.run.shards import Share, share_of


def test_the_shares_split_the_input_between_them_once_and_the_same_way_every_time(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    mixed_inputs(inputs, 40)
    every = sorted(map(str, Inputs([inputs])))
    shares = [sorted(map(str, Share(Inputs([inputs]), i, 3))) for i in (1, 2, 3)]
    assert sorted(p for share in shares for p in share) == every  # each path in exactly one share
    assert all(len(share) >= 5 for share in shares)  # a hash spreads them
    assert [share_of(p, 3) for p in every] == [share_of(p, 3) for p in every]
    assert Share(Inputs([inputs]), 2, 3).census()[0] == len(shares[1])


def test_shares_run_side_by_side_and_merged_equal_one_run(tmp_path: Path) -> None:
    inputs = mixed_inputs(tmp_path / "in", 20)
    # A text twice in two shares is analysed in each (a share reads only its own files); merge keeps one.
    (inputs / "zz-same-as-3.txt").unlink()
    env = env_for(tmp_path)

    def factcheck(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*FACTCHECK, *args], env=env, capture_output=True, text=True, timeout=300)

    one = factcheck("run", str(inputs), "--out", str(tmp_path / "one"), "--no-llm", "--no-stories", "-q")
    assert one.returncode == 3, one.stderr  # the unreadable file
    for i in (1, 2):
        share = factcheck("run", str(inputs), "--out", str(tmp_path / f"share{i}"), "--no-llm", "--no-stories", "-q",
                          "--shard", f"{i}/2")
        assert share.returncode in (0, 3), share.stderr
    merged = factcheck("merge", str(tmp_path / "share1"), str(tmp_path / "share2"), "--to", str(tmp_path / "merged"))
    assert merged.returncode == 0, merged.stderr
    counted = [json.loads((tmp_path / f"share{i}" / "run.json").read_text())["counts"]["done"] for i in (1, 2)]
    assert all(counted) and sum(counted) == 20  # both shares did work, none the other's

    assert results(tmp_path / "merged") == results(tmp_path / "one")
    assert rows(tmp_path / "merged" / "results.jsonl") == rows(tmp_path / "one" / "results.jsonl")
    assert rows(tmp_path / "merged" / "errors.jsonl") == rows(tmp_path / "one" / "errors.jsonl")
    manifest = json.loads((tmp_path / "merged" / "run.json").read_text())
    assert manifest["counts"]["results"] == 20 and len(manifest["merged_from"]) == 2
    assert "notes.csv: skipped" in "\n".join(lines(tmp_path / "merged" / "skipped.txt"))

    again = factcheck("merge", str(tmp_path / "share1"), str(tmp_path / "share2"), "--to", str(tmp_path / "merged"))
    assert again.returncode == 0 and "0 results merged" in again.stderr  # merging twice changes no result
    assert results(tmp_path / "merged") == results(tmp_path / "one")


def test_merge_refuses_a_folder_that_is_not_an_output_folder_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "stuff").mkdir()
    done = subprocess.run([*FACTCHECK, "merge", str(tmp_path / "stuff"), "--to", str(tmp_path / "merged")],
                          env=env_for(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "not a factcheck output folder" in done.stderr and "Traceback" not in done.stderr
