"""One claim across outlets, end to end: the seed and three short articles written here, through
``factcheck run`` on a real recording of the embedded model, make one story with each article's
stance toward it. Claims and denials replay from ``cassettes/stories/stories_seed/seed_story.yaml``; verdicts come
from the trained stance model and story grouping from the MiniLM embedder (both offline, no LLM).

Re-record (a model job, about five minutes with the 1.5B):
``pytest --record-mode=rewrite tests/stories/test_stories_seed.py``.
"""

import json
from pathlib import Path

import pytest
from recording import REPLAY_URL, SEEDS, shared_cassette
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.stories import STORIES_FILE, read_stories
from schemas.stories import Stance, Story

# Each article is a JSON record, so the run keeps its outlet, URL and date.
SEED = {
    "title": "Musk denies Bremmer's account of a Putin call",
    "outlet": "Daily Caller News Foundation",
    "url": "https://dailycaller.example/2022/10/11/musk-putin-bremmer",
    "published": "2022-10-11",
}
BACKS = {
    "text": "Musk and Putin discussed Ukraine, call records show\n"
    "Elon Musk spoke with Russian President Vladimir Putin about Ukraine in October 2022. Call records seen by "
    "the Riverton Ledger confirm that the two men spoke by phone for forty minutes. During the call, Musk and Putin "
    "discussed the war in Ukraine and the future of Crimea. Two days later, Musk posted his peace plan for Ukraine.\n",
    "title": "Musk and Putin discussed Ukraine, call records show",
    "outlet": "Riverton Ledger",
    "url": "https://ledger.example/news/musk-putin-call-records",
    "published": "2022-10-14",
}
REPORTS = {
    "text": "Bremmer says Musk told him of a Putin call\n"
    "Political scientist Ian Bremmer said on Tuesday that Elon Musk told him he had spoken with Vladimir Putin "
    "about Ukraine. According to Bremmer, Musk said Putin was prepared to negotiate. Bremmer did not say when the "
    "conversation took place, and the account could not be independently confirmed.\n",
    "title": "Bremmer says Musk told him of a Putin call",
    # No outlet given: the story names the URL's host.
    "url": "https://www.wire.example/2022/10/12/bremmer-musk-putin",
    "published": "2022-10-12",
}
DEBUNKS = {
    "text": "Fact check: the Musk-Putin Ukraine call is a hoax\n"
    "The claim that Elon Musk spoke with Vladimir Putin about Ukraine is false. Fact checkers found no call "
    "between Musk and Putin about Ukraine, and the story has been debunked. The fake report first spread in a "
    "newsletter by Ian Bremmer.\n",
    "title": "Fact check: the Musk-Putin Ukraine call is a hoax",
    "outlet": "Check Desk",
    "url": "javascript:alert(1)",  # never a link, never an appearance
    "published": "2022-10-20",
}
# Each article's stance comes from all its claims in the story (schemas.stories.article_stance). The
# seed reports Bremmer's account and carries Musk's denial of it: disputed. The fact-check's claim is
# "The claim that Elon Musk spoke with Vladimir Putin about Ukraine is false."; the article backs that
# negated statement (stance model P(backs) 0.59 on this recording), so toward the story it debunks.
EXPECTED = {"seed": Stance.disputed, "backs": Stance.backs, "reports": Stance.reports, "debunks": Stance.debunks}

runner = CliRunner()


def write_inputs(folder: Path) -> None:
    folder.mkdir(parents=True)
    seed = {"text": (SEEDS / "musk-putin-bremmer.txt").read_text(encoding="utf-8"), **SEED}
    for name, record in (("seed", seed), ("backs", BACKS), ("reports", REPORTS), ("debunks", DEBUNKS)):
        (folder / f"{name}.json").write_text(json.dumps(record), encoding="utf-8")


@pytest.fixture(scope="module")
def run_out(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, _recording_server: str | None
) -> Path:
    tmp = tmp_path_factory.mktemp("stories-seed")
    write_inputs(tmp / "in")
    out = tmp / "out"
    env = {"FACTCHECK_CACHE_DIR": str(tmp / "cache"), "FACTCHECK_MAX_ATTEMPTS": "1"}
    with shared_cassette(request.config, "stories/stories_seed/seed_story.yaml"):
        result = runner.invoke(
            app,
            ["run", str(tmp / "in"), "--out", str(out), "--backend", "embedded", "--base-url",
             _recording_server or REPLAY_URL, "--no-cache", "--concurrency", "1", "--quiet"],
            env=env,
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def _source_name(source: str) -> str:
    return Path(source).stem


def musk_putin_story(out: Path) -> Story:
    stories = read_stories(out)
    found = [s for s in stories if any("Putin" in c.statement and "Musk" in c.statement for c in s.claims)]
    assert found, [s.statement for s in stories]
    return max(found, key=lambda s: len(s.articles))


def test_the_run_writes_stories_at_the_end(run_out: Path) -> None:
    assert (run_out / STORIES_FILE).is_file()
    assert len(list((run_out / "articles").glob("*.json"))) == 4


def test_the_four_articles_make_one_story_with_each_articles_stance(run_out: Path) -> None:
    story = musk_putin_story(run_out)
    stances = {_source_name(a.source): a.stance for a in story.articles}
    assert stances == EXPECTED, (story.statement, [(c.source, c.claim_id, c.statement, c.stance) for c in story.claims])


def test_outlets_dates_and_spans(run_out: Path) -> None:
    story = musk_putin_story(run_out)
    by_name = {_source_name(a.source): a for a in story.articles}
    assert by_name["reports"].outlet == "wire.example"  # from the URL's host, without www.
    assert by_name["backs"].outlet == "Riverton Ledger"
    assert sorted(story.outlets) == sorted(
        {"Daily Caller News Foundation", "Riverton Ledger", "wire.example", "Check Desk"}
    )
    assert [a.published for a in sorted(story.articles, key=lambda a: a.published or "")] == [
        "2022-10-11", "2022-10-12", "2022-10-14", "2022-10-20",
    ]  # fmt: skip
    texts = {
        json.loads(p.read_text())["article"]["id"]: json.loads(p.read_text())["text"]
        for p in (run_out / "articles").glob("*.json")
    }
    for claim in story.claims:
        for span in claim.spans:
            assert texts[claim.article_id][span.start : span.end] == span.text


def test_a_second_stories_pass_makes_no_llm_call_and_embeds_nothing(run_out: Path) -> None:
    before = (run_out / STORIES_FILE).read_bytes()
    result = runner.invoke(app, ["stories", str(run_out)])
    assert result.exit_code == 0, result.output
    assert "embedded 0 claims" in result.output
    assert (run_out / STORIES_FILE).read_bytes() == before
