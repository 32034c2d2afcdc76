"""A seed run folder for the desk's tests, built in code from the seed article.

Stands in for a recorded pipeline run until one is committed: swap the body of
:func:`build_seed_run` for a copy of that run and the tests stay the same.
"""

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from pipeline.text.ingest import article_id
from pipeline.text.sentences import split_sentences
from pipeline.text.spans import align_quote
from schemas import (
    ArticleMeta,
    ArticleResult,
    Claim,
    ClaimKind,
    Denial,
    DenialKind,
    MatchKind,
    RunInfo,
    Span,
    Verdict,
    VerdictLabel,
)

SEED = Path(__file__).resolve().parent.parent / "seeds" / "musk-putin-bremmer.txt"
MUSK_PUTIN_CLAIM = "c1"  # the Musk-Putin claim in the seed article
MUSK_PUTIN_STATEMENT = "Elon Musk spoke with Vladimir Putin about Ukraine"
DESK_URL = "http://127.0.0.1"  # a test client's base URL: the desk answers only for a loopback Host

SECOND_TEXT = """City Says Water Rates Will Not Rise
The mayor of Riverton, Ana Ortiz, said on Monday that water rates would stay flat through 2026.
“We have balanced the utility budget without a rate increase,” Ortiz told reporters.
The utility’s own budget filing, published in March, projects a 4 percent rate increase in 2025.
A spokesperson for the utility declined to comment.
"""


def quote(text: str, words: str) -> Span:
    span = align_quote(text, words)
    if span is None:
        raise AssertionError(f"fixture quote not in the text: {words!r}")
    return span


def sentence_with(text: str, words: str) -> Span:
    """The whole sentence holding ``words``, as the pipeline cites sentence numbers."""
    at = quote(text, words)
    for s in split_sentences(text):
        if s.start <= at.start < s.end:
            return Span(start=s.start, end=s.end, text=s.text, match=MatchKind.sentence)
    raise AssertionError(f"no sentence holds {words!r}")


def _run_info() -> RunInfo:
    return RunInfo(
        backend="fixture",
        model="fixture",
        prompt_versions={"claims": "fixture", "denials": "fixture", "verify": "fixture"},
        started_at=datetime(2024, 1, 1, tzinfo=UTC),
        seconds=0.0,
    )


def musk_putin_article() -> ArticleResult:
    text = SEED.read_text(encoding="utf-8")
    musk_quote = "I have spoken to Putin only once and that was about 18 months ago. The subject matter was space"
    doubled_down = "Elon musk told me he had spoken with Putin and the Kremlin directly about Ukraine."
    claims = [
        Claim(
            id="c1",
            statement=MUSK_PUTIN_STATEMENT,
            claimant="Ian Bremmer",
            via=["Elon Musk"],
            cue="according to",
            kind=ClaimKind.fact,
            checkworthiness=0.95,
            spans=[
                sentence_with(text, "allegedly spoke to Russian President Vladimir Putin"), quote(text, doubled_down),
            ],
            claimant_span=quote(text, "Ian Bremmer"),
            cue_span=quote(text, "according to"),
        ),
        Claim(
            id="c2",
            statement="Vladimir Putin told Elon Musk he was prepared to negotiate an end to the war",
            claimant="Ian Bremmer",
            via=["Elon Musk", "Vladimir Putin"],
            cue="wrote",
            kind=ClaimKind.quote,
            checkworthiness=0.85,
            spans=[quote(text, "he told me Putin (in a direct conversation with him) was ‘prepared to negotiate’")],
            claimant_span=quote(text, "Bremmer wrote"),
            cue_span=quote(text, "wrote"),
        ),
        Claim(
            id="c3",
            statement="Elon Musk has spoken to Vladimir Putin only once, about 18 months ago, about space",
            claimant="Elon Musk",
            cue="responded",
            kind=ClaimKind.quote,
            checkworthiness=0.8,
            spans=[quote(text, musk_quote)],
            cue_span=quote(text, "Musk responded"),
        ),
        Claim(
            id="c4",
            statement="Russia annexed Crimea in 2014",
            claimant="the article",
            cue="none",
            kind=ClaimKind.fact,
            checkworthiness=0.4,
            spans=[quote(text, "Crimea, which Russia annexed in 2014")],
        ),
        Claim(
            id="c5",
            statement="Ukrainian forces have reported Starlink outages",
            claimant="the article",
            via=["Financial Times"],
            cue="according to",
            kind=ClaimKind.fact,
            checkworthiness=0.7,
            spans=[sentence_with(text, "Ukrainian forces have reported Starlink outages")],
        ),
    ]
    denials = [
        Denial(
            id="d1",
            speaker="Elon Musk",
            disputes="That Musk spoke with Putin about Ukraine two weeks earlier",
            kind=DenialKind.contradiction,
            claim_ids=["c1", "c2"],
            spans=[quote(text, musk_quote)],
        ),
        Denial(
            id="d2",
            speaker="Elon Musk",
            disputes="That the conversation with Putin took place",
            kind=DenialKind.explicit_denial,
            claim_ids=["c1"],
            spans=[quote(text, "Musk subsequently denied the conversation with Putin")],
        ),
        Denial(
            id="d3",
            speaker="SpaceX and the Kremlin",
            disputes="Nothing: they did not respond",
            kind=DenialKind.non_denial,
            claim_ids=[],  # the pipeline never links a non-denial to a claim
            spans=[quote(text, "SpaceX and the Kremlin did not immediately respond")],
        ),
    ]
    verdicts = [
        Verdict(
            claim_id="c1",
            verdict=VerdictLabel.disputed,
            confidence=0.72,
            rationale="Bremmer reports and repeats the account; Musk says he spoke to Putin only once, "
            "18 months earlier, about space. Both stand.",
            supporting=[quote(text, doubled_down)],
            contradicting=[quote(text, musk_quote)],
        ),
        Verdict(
            claim_id="c2",
            verdict=VerdictLabel.disputed,
            confidence=0.6,
            rationale="Only Bremmer's second-hand account; Musk denies the conversation.",
            supporting=[
                quote(text, "he told me Putin (in a direct conversation with him) was ‘prepared to negotiate’"),
            ],
            contradicting=[quote(text, "Musk subsequently denied the conversation with Putin")],
        ),
        Verdict(
            claim_id="c3",
            verdict=VerdictLabel.unverified,
            confidence=0.5,
            rationale="Musk's own statement; nothing in the article confirms or refutes it.",
        ),
        Verdict(
            claim_id="c4",
            verdict=VerdictLabel.supported,
            confidence=0.9,
            rationale="The article states it as background.",
            supporting=[quote(text, "Crimea, which Russia annexed in 2014")],
        ),
        Verdict(
            claim_id="c5",
            verdict=VerdictLabel.unverified,
            confidence=0.55,
            rationale="Attributed to the Financial Times; no evidence in the article.",
        ),
    ]
    return ArticleResult(
        article=ArticleMeta(
            id=article_id(text),
            source=str(SEED),
            title=text.splitlines()[0],
            url="https://news.example/2022/10/musk-putin-bremmer",
            outlet="Daily Caller News Foundation",
            published="2022-10-11",
        ),
        text=text,
        claims=claims,
        denials=denials,
        verdicts=verdicts,
        run=_run_info(),
    )


def water_rates_article() -> ArticleResult:
    text = SECOND_TEXT
    claims = [
        Claim(
            id="c1",
            statement="Riverton's water rates will stay flat through 2026",
            claimant="Ana Ortiz",
            cue="said",
            kind=ClaimKind.prediction,
            checkworthiness=0.9,
            spans=[quote(text, "water rates would stay flat through 2026")],
            claimant_span=quote(text, "Ana Ortiz"),
            cue_span=quote(text, "said"),
        ),
        Claim(
            id="c2",
            statement="Riverton balanced the utility budget without a rate increase",
            claimant="Ana Ortiz",
            cue="told",
            kind=ClaimKind.quote,
            checkworthiness=0.75,
            spans=[quote(text, "We have balanced the utility budget without a rate increase")],
            claimant_span=quote(text, "Ortiz"),
            cue_span=quote(text, "told reporters"),
        ),
        Claim(
            id="c3",
            statement="The utility published its budget filing in March",
            claimant="the article",
            cue="none",
            kind=ClaimKind.fact,
            checkworthiness=0.3,
            spans=[quote(text, "published in March")],
        ),
    ]
    denials = [
        Denial(
            id="d1",
            speaker="the utility",
            disputes="Nothing: declined to comment",
            kind=DenialKind.non_denial,
            claim_ids=[],
            spans=[quote(text, "A spokesperson for the utility declined to comment.")],
        )
    ]
    verdicts = [
        Verdict(
            claim_id="c1",
            verdict=VerdictLabel.refuted,
            confidence=0.8,
            rationale="The utility's own filing projects a 4 percent increase in 2025.",
            contradicting=[sentence_with(text, "projects a 4 percent rate increase")],
        ),
        Verdict(
            claim_id="c2",
            verdict=VerdictLabel.unverified,
            confidence=0.45,
            rationale="Only the mayor's word; the filing suggests otherwise but does not address the budget.",
        ),
        # c3 has no verdict: the desk must cope with a claim the verifier skipped.
    ]
    return ArticleResult(
        article=ArticleMeta(
            id=article_id(text), source="fixture:water-rates", title=text.splitlines()[0], outlet="Riverton Ledger",
        ),
        text=text,
        claims=claims,
        denials=denials,
        verdicts=verdicts,
        run=_run_info(),
    )


def build_seed_run(out_dir: Path) -> Path:
    """Write a run folder (``articles/<id>.json``) under ``out_dir`` and return it."""
    articles = out_dir / "articles"
    articles.mkdir(parents=True, exist_ok=True)
    for result in (musk_putin_article(), water_rates_article()):
        (articles / f"{result.article.id}.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
    return out_dir


def seed_ids() -> tuple[str, str]:
    """(musk-putin article id, water-rates article id)."""
    return article_id(SEED.read_text(encoding="utf-8")), article_id(SECOND_TEXT)


@contextmanager
def live_server(app: FastAPI | Callable[[int], FastAPI]) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a background thread on a free loopback port; yields the base URL.
    ``app`` may be a function of the port, for an app that checks requests against its own port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    if not isinstance(app, FastAPI):
        app = app(port)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the desk did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def desk_process(
    run_dir: Path, env: dict[str, str], *, before: str = "", bound_by_permissions: bool = False,
) -> Iterator[tuple[str, list[str]]]:
    """``factcheck review RUN_DIR`` as an operator starts it, in its own process (``before``: Python run
    first, e.g. a file size limit; ``bound_by_permissions``: as root, without the capability to override
    file permissions). Yields the desk's URL and, once it has stopped, its log lines (stderr)."""
    import subprocess
    import sys

    command = [sys.executable, "-c", f"{before}\nfrom pipeline.cli import main; main()", "review", str(run_dir)]
    if bound_by_permissions and os.geteuid() == 0:
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *command]
    process = subprocess.Popen(command, env={**env, "PYTHONDONTWRITEBYTECODE": "1"}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    log: list[str] = []
    try:
        first = process.stdout.readline() if process.stdout else ""
        if " at http://" not in first:
            raise RuntimeError(f"the desk did not start: {first}{process.stderr.read() if process.stderr else ''}")
        yield first.split(" at ", 1)[1].split()[0].rstrip("/"), log
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
        log.extend(stderr.splitlines())


def raw_get(base_url: str, raw_path: str) -> tuple[int, bytes]:
    """GET a path byte for byte (no client-side ``..`` folding), returning status and body."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"GET {raw_path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


# Headless Chromium for the desk's browser tests.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Stories: results built through the schemas, the Musk-Putin claim in other words.
MUSK_PUTIN = [
    "Elon Musk spoke with Vladimir Putin about Ukraine",
    "Musk talked to Putin about the war in Ukraine",
    "Putin and Elon Musk discussed Ukraine in a phone call",
]
def article(text: str, claims: list[tuple[str, str, VerdictLabel | None]], **meta: str) -> ArticleResult:
    """A result whose claims state (statement, quoted words, verdict), built through the schemas."""
    built = [
        Claim(id=f"c{i}", statement=s, claimant="the article", cue="none", kind=ClaimKind.fact, checkworthiness=0.8,
              spans=[quote(text, words)])
        for i, (s, words, _) in enumerate(claims, start=1)
    ]  # fmt: skip
    verdicts = [
        Verdict(claim_id=f"c{i}", verdict=v, confidence=0.6, rationale="r")
        for i, (_, _, v) in enumerate(claims, start=1)
        if v is not None
    ]
    return ArticleResult(
        article=ArticleMeta(id=article_id(text), source=meta.pop("source", "test"), **meta),
        text=text, claims=built, verdicts=verdicts,
        run=RunInfo(backend="test", model="test", prompt_versions={}, started_at="2024-01-01T00:00:00Z", seconds=0.0),
    )  # fmt: skip


def write_result(out: Path, result: ArticleResult) -> Path:
    path = out / "articles" / f"{result.article.id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    return path


RESTATES = "Musk talked to Putin about the war in Ukraine, aides confirmed.\n"
DEBUNKS = "It is false that Elon Musk spoke with Vladimir Putin about Ukraine.\n"


def restating_article() -> ArticleResult:
    return article(
        RESTATES, [(MUSK_PUTIN[1], "Musk talked to Putin", VerdictLabel.supported)],
        source="restates.txt", url="https://www.ledger.example/a", published="2022-10-14T08:00:00Z",
    )


def debunking_article() -> ArticleResult:
    # As the pipeline gives it: the claim states the negation and the article backs that (supported);
    # toward the story's proposition ("Musk spoke with Putin") the article debunks.
    claims = [("Elon Musk did not speak with Vladimir Putin about Ukraine", "It is false", VerdictLabel.supported)]
    return article(
        DEBUNKS, claims, source="debunks.txt", outlet="Check Desk", published="Thu, 20 Oct 2022 09:00:00 +0000",
    )
