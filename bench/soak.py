"""Soak test of `factcheck run` against the fake OpenAI server (not a test; prints figures).

    .venv/bin/python bench/soak.py                    # 500 articles, the fault mix, two kill -9 / resume cycles
    .venv/bin/python bench/soak.py --articles 100     # a quicker look

The run: N good articles plus one bad file per 50 (binary, empty, not UTF-8, JSON nested
100,000 deep, JSON without text, a symlink loop, a dangling symlink, HTML without text, an
input over max_chars, a JSON list), through a fake server answering 10 % 429, 5 % 5xx, 3 %
timeouts, 2 % dropped connections and 2 % malformed JSON. The CLI is killed with SIGKILL
twice (after a third and after two thirds of the articles are written) and resumed each
time. Reported: good articles done, duplicated answers, bad files in errors.jsonl, and the
wall time against a fault-free run of the same inputs.

Both servers run in their own processes, so their CPU is not counted against the client,
and a killed CLI leaves them be.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.run.output import load_result  # noqa: E402
from pipeline.testing.articles import article_text, marker, write_articles  # noqa: E402
from pipeline.text.ingest import article_id  # noqa: E402

FAULTS = {"rate_limit": 0.10, "server_error": 0.05, "timeout": 0.03, "drop": 0.02, "invalid_json": 0.02,
          "retry_after": 0.2, "timeout_sleep": 2.0, "seed": 15}
CONCURRENCY = 8
CLIENT_TIMEOUT = "1.0"  # seconds per attempt: a "timeout" fault answers after 2 s


class FakeServer:
    def __init__(self, latency: float, faults: dict[str, object]):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.testing.fake_openai", "--latency", str(latency), "--faults", json.dumps(faults)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,  # aiohttp logs every dropped socket
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()

    def stats(self) -> dict[str, object]:
        with urllib.request.urlopen(self.base_url.replace("/v1", "/_fake/stats")) as answer:
            return dict(json.load(answer))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


BAD_KINDS = ["binary", "empty", "latin1", "deep_json", "json_no_text", "symlink_loop", "dangling", "html_no_text",
             "too_long", "json_list"]


def write_bad(folder: Path, n: int) -> str:
    """The n-th bad file (kind by turn); returns its name."""
    kind = BAD_KINDS[n % len(BAD_KINDS)]
    name = f"bad-{n:03d}-{kind}" + {"deep_json": ".json", "json_no_text": ".json", "json_list": ".json",
                                    "html_no_text": ".html"}.get(kind, ".txt")
    path = folder / name
    if kind == "binary":
        path.write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    elif kind == "empty":
        path.write_text("   \n")
    elif kind == "latin1":
        path.write_bytes("Le ministre a déclaré que le pont ouvrira.".encode("latin-1"))
    elif kind == "deep_json":
        path.write_text("[" * 100_000 + "]" * 100_000)
    elif kind == "json_no_text":
        path.write_text('{"title": "no body"}')
    elif kind == "symlink_loop":
        os.symlink(name, path)
    elif kind == "dangling":
        os.symlink("nowhere.txt", path)
    elif kind == "html_no_text":
        path.write_text("<html><head><script>var x = 1;</script></head><body></body></html>")
    elif kind == "too_long":
        path.write_text("A sentence that repeats to make a very long input. " * 5_000)  # 255,000 chars
    elif kind == "json_list":
        path.write_text('["not", "an", "object"]')
    return name


def cli(inputs: Path, out: Path, base_url: str, cache: Path) -> list[str]:
    return [sys.executable, "-c", "from pipeline.cli import main; main()", "run", str(inputs), "--out", str(out),
            "--base-url", base_url, "--model", "gpt-4o-mini", "--concurrency", str(CONCURRENCY), "--quiet"]


def env_for(work: Path, cache: Path) -> dict[str, str]:
    (work / "empty.toml").touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FACTCHECK_", "OPENAI_"))}
    env.update(FACTCHECK_CONFIG=str(work / "empty.toml"), FACTCHECK_CACHE_DIR=str(cache), OPENAI_API_KEY="soak",
               FACTCHECK_TIMEOUT=CLIENT_TIMEOUT, FACTCHECK_MAX_ATTEMPTS="6", PYTHONPATH=str(ROOT))
    return env


def results_in(out: Path) -> int:
    folder = out / "articles"
    return sum(1 for p in folder.glob("*.json")) if folder.is_dir() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--work", type=Path, default=None, help="Folder to work in (default: a temporary one).")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="factcheck-soak-"))
    inputs = work / "in"
    write_articles(inputs, args.articles)
    bad = {write_bad(inputs, n) for n in range(args.articles // 50)}
    report: dict[str, object] = {"articles": args.articles, "bad_files": len(bad), "faults": FAULTS,
                                 "concurrency": CONCURRENCY, "latency_s": args.latency}

    # The fault-free run: the wall time to beat.
    clean = FakeServer(args.latency, {})
    try:
        started = time.perf_counter()
        done = subprocess.run(cli(inputs, work / "out-clean", clean.base_url, work / "cache-clean"),
                              env=env_for(work, work / "cache-clean"), capture_output=True, text=True)
        report["fault_free"] = {"seconds": round(time.perf_counter() - started, 1), "exit": done.returncode,
                                "summary": done.stderr.strip().splitlines()[-1]}
    finally:
        clean.stop()

    # The faulted run, killed twice.
    server = FakeServer(args.latency, FAULTS)
    out, cache = work / "out", work / "cache"
    env = env_for(work, cache)
    segments: list[dict[str, object]] = []
    try:
        started = time.perf_counter()
        for kill_at in (args.articles // 3, 2 * args.articles // 3):
            victim = subprocess.Popen(cli(inputs, out, server.base_url, cache), env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while results_in(out) < kill_at and victim.poll() is None:
                time.sleep(0.05)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            segments.append({"killed_at_results": results_in(out),
                             "status_left": json.loads((out / "run.json").read_text())["status"]})
        final = subprocess.run(cli(inputs, out, server.base_url, cache), env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        stats = server.stats()
    finally:
        server.stop()

    results = {p.stem: load_result(p) for p in (out / "articles").glob("*.json")}
    expected = {article_id(article_text(i)): i for i in range(args.articles)}
    done_ids = {k for k, r in results.items() if r is not None}
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    row_keys = Counter((r["article_id"], r["claim_id"]) for r in rows)
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()] if (out / "errors.jsonl").exists() else []
    failed_sources = {Path(str(e["source"])).name for e in errors}
    by_marker: dict[str, int] = stats["by_marker"]  # type: ignore[assignment]
    answers = [by_marker.get(marker(i), 0) for i in range(args.articles)]
    manifest = json.loads((out / "run.json").read_text())
    report["faulted"] = {
        "seconds": round(seconds, 1),
        "exit": final.returncode,
        "summary": final.stderr.strip().splitlines()[-1] if final.stderr.strip() else "",
        "kills": segments,
        "good_done": f"{len(done_ids & set(expected))}/{len(expected)}",
        "unexpected_results": len(done_ids - set(expected)),
        "duplicated_result_rows": sum(n - 1 for n in row_keys.values() if n > 1),
        "articles_answered_more_than_3_times": sum(a > 3 for a in answers),
        "extra_answers": sum(max(0, a - 3) for a in answers),
        "bad_files_in_errors": f"{len(bad & failed_sources)}/{len(bad)}",
        "good_articles_in_errors": sorted(failed_sources - bad),
        "server_faults": stats["faults"],
        "requests": stats["requests"],
        "failed_attempts_in_run_json": manifest["tokens"]["failed_attempts"],
        "status": manifest["status"],
    }
    report["slowdown"] = round(report["faulted"]["seconds"] / report["fault_free"]["seconds"], 2)  # type: ignore[index]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
