"""Stories: grouping claims across articles, kept up to date incrementally, written atomically.

The embedder is the shipped MiniLM (offline); result files are built through the real schemas.
"""

import asyncio
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from review_fixtures import (
    MUSK_PUTIN,
    article,
    build_seed_run,
    debunking_article,
    musk_putin_article,
    restating_article,
    seed_ids,
    write_result,
)
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.llm.client import LLM
from pipeline.run.inputs import discover
from pipeline.run.driver import run
from pipeline.settings import Settings
from pipeline.stance.embedder import shared_embedder
from pipeline.stories import STORIES_FILE, StoriesError, read_stories, update_stories, with_reviews
from pipeline.stories import vectors as vector_cache
from pipeline.stories._ids import assign_ids
from pipeline.stories._meta import iso_date, outlet_of
from pipeline.stories._polarity import negated
from pipeline.stories.bcubed import b_cubed
from pipeline.stories.cluster import DISTANCE_THRESHOLD, cluster
from pipeline.testing.articles import write_articles
from pipeline.testing.fake_openai import FakeOpenAI
from schemas import VerdictLabel
from schemas.stories import Stance, Story, StoryClaim, article_stance, article_stance_and_claim

runner = CliRunner()

OTHERS = [
    "Riverton's water rates will rise by 4 percent in 2025",
    "The city council approved a new football stadium downtown",
    "A new species of frog was found in the Amazon rainforest",
]


class CountingEmbedder:
    """The real embedder, counting what it is asked to embed."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += texts
        return shared_embedder().embed(texts)


@pytest.fixture
def seed_out(tmp_path: Path) -> Path:
    out = build_seed_run(tmp_path / "out")
    write_result(out, restating_article())
    return out


def musk_story(stories: list[Story]) -> Story:
    [story] = [s for s in stories if any(c.statement == MUSK_PUTIN[0] for c in s.claims)]
    return story


# -- B-cubed and clustering ------------------------------------------------------------------


def test_b_cubed_on_a_hand_checked_example() -> None:
    # Gold: {a,b,c} {d,e}. Predicted: {a,b} {c,d,e}.
    # Precision: a,b 2/2; c 1/3; d,e 2/3 -> (1+1+1/3+2/3+2/3)/5 = 11/15.
    # Recall: a,b 2/3; c 1/3; d,e 2/2 -> (2/3+2/3+1/3+1+1)/5 = 11/15.
    measured = b_cubed(["x", "x", "y", "y", "y"], [1, 1, 1, 2, 2])
    assert measured.precision == pytest.approx(11 / 15) and measured.recall == pytest.approx(11 / 15)
    assert measured.f1 == pytest.approx(11 / 15)
    assert b_cubed([1, 2, 3], ["a", "b", "c"]).f1 == 1.0
    all_in_one = b_cubed([0, 0, 0, 0], ["a", "a", "b", "b"])
    assert (all_in_one.precision, all_in_one.recall) == (0.5, 1.0)


def test_paraphrases_share_a_story_and_other_propositions_do_not() -> None:
    vectors = shared_embedder().embed(MUSK_PUTIN + OTHERS)
    labels = cluster(vectors).labels.tolist()
    assert len({labels[0], labels[1], labels[2]}) == 1, labels
    assert len(set(labels[3:])) == 3 and labels[0] not in labels[3:], labels


def test_clustering_by_components_is_the_same_as_clustering_everything_at_once() -> None:
    from sklearn.cluster import AgglomerativeClustering

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(12, 16))
    points = np.concatenate([c + rng.normal(scale=0.6, size=(15, 16)) for c in centres])
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    for threshold in (0.2, DISTANCE_THRESHOLD, 0.8):
        ours = cluster(points, threshold).labels
        whole = AgglomerativeClustering(
            n_clusters=None, distance_threshold=threshold, metric="cosine", linkage="average"
        )
        theirs = whole.fit_predict(points)
        assert b_cubed(ours.tolist(), theirs.tolist()).f1 == 1.0, threshold  # the same partition
        if threshold == DISTANCE_THRESHOLD:  # components too big for their distances: two stages, nearly the same
            split = cluster(points, threshold, dense_limit=20)
            assert split.split > 0 and b_cubed(split.labels.tolist(), theirs.tolist()).f1 > 0.98
    assert cluster(points[:0]).labels.tolist() == [] and cluster(points[:1]).labels.tolist() == [0]


def test_story_ids_carry_over_when_a_story_grows_or_splits() -> None:
    a, b, c, d = ("a", "c1"), ("b", "c1"), ("c", "c1"), ("d", "c1")
    first = assign_ids([[a, b], [c]], {})
    assert assign_ids([[a, b], [c]], {}) == first  # the same claims, the same ids
    previous = {a: first[0], b: first[0], c: first[1]}
    grown = assign_ids([[d], [c], [b, a, d]], previous)
    assert grown[2] == first[0] and grown[1] == first[1] and grown[0] not in first
    split = assign_ids([[a], [b, c]], {a: first[0], b: first[0], c: first[0]})
    assert split[1] == first[0] and split[0] != first[0]  # the bigger part keeps the id


def test_outlet_and_date_from_what_the_input_gave() -> None:
    assert outlet_of("Riverton Ledger", "https://x.example/") == "Riverton Ledger"
    assert outlet_of(None, "https://www.Ledger.example:8443/a?b") == "ledger.example"
    assert outlet_of(None, "javascript:alert(1)") is None and outlet_of(None, None) is None
    assert (iso_date("2022-10-14T08:00:00Z") == "2022-10-14"
            and iso_date("Thu, 20 Oct 2022 09:00:00 +0000") == "2022-10-20")
    assert iso_date("last Tuesday") is None and iso_date("2022-13-45") is None


# -- building from result files ---------------------------------------------------------------


def test_claims_restating_one_proposition_across_articles_make_one_story(seed_out: Path) -> None:
    write_result(seed_out, debunking_article())
    update = update_stories(seed_out)
    story = musk_story(update.stories)
    assert update.stories[0] is story  # largest first
    stances = {a.source.rsplit("/", 1)[-1]: a.stance for a in story.articles}
    assert stances == {
        "musk-putin-bremmer.txt": Stance.disputed, "restates.txt": Stance.backs, "debunks.txt": Stance.debunks
    }
    assert story.stance_counts[Stance.backs] == 1 and story.stance_counts[Stance.reports] == 0
    assert story.outlets == ["Check Desk", "Daily Caller News Foundation", "ledger.example"]
    assert [a.published for a in story.articles] == ["2022-10-11", "2022-10-14", "2022-10-20"]  # the timeline
    water = next(s for s in update.stories if any("Riverton" in c.statement for c in s.claims))
    assert water.id != story.id and len(water.articles) == 1
    texts = {r.article.id: r.text for r in (musk_putin_article(), restating_article(), debunking_article())}
    for claim in story.claims:
        assert claim.spans and all(texts[claim.article_id][s.start : s.end] == s.text for s in claim.spans)


def test_only_new_results_are_embedded_and_story_ids_stay(seed_out: Path, tmp_path: Path) -> None:
    embed = CountingEmbedder()
    first = update_stories(seed_out, embed=embed)
    assert len(embed.texts) == first.claims == 9 and first.new_results == 3
    before = (seed_out / STORIES_FILE).read_bytes()

    again = update_stories(seed_out, embed=embed)
    assert len(embed.texts) == 9 and again.embedded == 0  # nothing new: nothing embedded
    assert (seed_out / STORIES_FILE).read_bytes() == before

    write_result(seed_out, debunking_article())
    grown = update_stories(seed_out, embed=embed)
    assert embed.texts[9:] == ["Elon Musk did not speak with Vladimir Putin about Ukraine"]
    assert musk_story(grown.stories).id == musk_story(first.stories).id
    assert len(musk_story(grown.stories).articles) == 3

    shutil.copytree(seed_out / "articles", tmp_path / "scratch" / "articles")
    scratch = update_stories(tmp_path / "scratch")  # no cache, no earlier stories
    assert sorted(s.model_dump_json(exclude={"id"}) for s in scratch.stories) == sorted(
        s.model_dump_json(exclude={"id"}) for s in grown.stories
    )  # an update gives the stories a build from scratch gives


def test_a_changed_result_file_is_embedded_again(seed_out: Path) -> None:
    embed = CountingEmbedder()
    update_stories(seed_out, embed=embed)
    changed = restating_article()
    changed.claims[0].statement = "Musk and Putin talked about Ukraine"
    write_result(seed_out, changed)
    update = update_stories(seed_out, embed=embed)
    assert embed.texts[-1:] == ["Musk and Putin talked about Ukraine"] and update.embedded == 1
    assert any(c.statement == "Musk and Putin talked about Ukraine" for s in update.stories for c in s.claims)


def test_a_run_builds_stories_and_a_second_run_makes_no_llm_call(tmp_path: Path) -> None:
    inputs, out = tmp_path / "in", tmp_path / "out"
    write_articles(inputs, 3)
    settings = Settings(cache_dir=tmp_path / "cache", timeout=2, max_attempts=3, concurrency=2, verifier="llm")
    with FakeOpenAI(latency=0.002) as fake:

        def go() -> None:
            llm = LLM(
                backend="openai", base_url=fake.base_url, api_key="test", model="gpt-4o-mini", timeout=2, max_attempts=3
            )
            files, missing = discover([inputs], exclude=out)

            async def main() -> None:
                try:
                    await run(llm, files, missing, out, settings, stories=True)
                finally:
                    await llm.close()

            asyncio.run(main())

        go()
        calls = fake.stats.requests
        assert calls > 0 and (out / STORIES_FILE).is_file()
        claims = sum(len(s.claims) for s in read_stories(out))
        assert claims == sum(len(json.loads(p.read_text())["claims"]) for p in (out / "articles").glob("*.json"))
        cache = vector_cache.load(vector_cache.cache_path(out))
        assert len(cache) == 3

        go()  # the same folder again: every article is reused, stories are rebuilt from the files
        assert fake.stats.requests == calls
        write_articles(inputs, 1, start=3)
        go()  # one article more: only its calls, only its claims embedded
        assert fake.stats.requests - calls in (2, 3)
        assert len(vector_cache.load(vector_cache.cache_path(out))) == 4


def test_stories_file_is_written_atomically(seed_out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    update_stories(seed_out)
    before = (seed_out / STORIES_FILE).read_bytes()
    write_result(seed_out, debunking_article())
    calls = {"n": 0}
    original = Story.model_dump_json

    def fail_on_third(self: Story, **kwargs: object) -> str:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return original(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Story, "model_dump_json", fail_on_third)
    with pytest.raises(OSError):
        update_stories(seed_out)
    assert (seed_out / STORIES_FILE).read_bytes() == before  # the old file, whole
    assert not [p for p in seed_out.iterdir() if p.name.endswith(".tmp")]


def test_an_unreadable_result_is_listed_and_the_rest_still_make_stories(seed_out: Path) -> None:
    (seed_out / "articles" / "0123456789abcdef.json").write_text("{not json", encoding="utf-8")
    update = update_stories(seed_out)
    assert len(update.unreadable) == 1 and "0123456789abcdef.json" in update.unreadable[0]
    assert update.articles == 3


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(StoriesError, match="not a run output folder"):
        update_stories(tmp_path)


def test_a_reviewed_verdict_replaces_the_machines_on_the_story(seed_out: Path) -> None:
    story = musk_story(update_stories(seed_out).stories)
    seed_id = seed_ids()[0]
    seed_entry = next(a for a in story.articles if a.article_id == seed_id)
    reviewed = with_reviews(story, {(seed_id, seed_entry.claim_id): VerdictLabel.refuted})
    entry = next(a for a in reviewed.articles if a.article_id == seed_id)
    assert entry.stance is Stance.debunks and reviewed.stance_counts[Stance.disputed] == 0
    claim = next(c for c in reviewed.claims if (c.article_id, c.claim_id) == (seed_id, seed_entry.claim_id))
    assert claim.reviewed and claim.machine_verdict is VerdictLabel.disputed
    assert story.stance_counts[Stance.disputed] == 1  # the file's story is untouched


# -- an article's stance toward a story ----------------------------------------------------------


def test_a_claims_polarity_counts_negations_and_falsity_words() -> None:
    assert not negated("Elon Musk spoke with Vladimir Putin about Ukraine.")
    assert negated("The claim that Elon Musk spoke with Vladimir Putin about Ukraine is false.")
    assert negated("Musk didn’t speak with Putin.") and negated("Fact checkers found no call between Musk and Putin.")
    assert negated("The Musk-Putin call is a hoax.") and negated("Musk has never spoken to Putin about Ukraine.")
    assert not negated("The claim that Musk did not speak with Putin is false.")  # two markers: affirmative
    assert not negated("Musk posted his peace plan for Ukraine.")
    # Outside a reported claim, two markers both deny: not a double negation.
    assert negated("No call between Musk and Putin about Ukraine, and the story has been debunked.")


def test_every_claim_of_an_article_in_the_story_counts_for_its_stance() -> None:
    assert article_stance([Stance.reports, Stance.disputed]) is Stance.disputed  # a linked denial on any copy
    assert article_stance([Stance.disputed, Stance.backs]) is Stance.backs  # its own voice settles it
    assert article_stance([Stance.reports, Stance.debunks]) is Stance.debunks
    assert article_stance([Stance.backs, Stance.debunks]) is Stance.disputed  # says both: not settled
    assert article_stance([Stance.unknown, Stance.reports]) is Stance.reports
    assert article_stance([Stance.unknown]) is Stance.unknown


def _claim(
    claim_id: str, verdict: VerdictLabel, similarity: float, *, negates: bool = False, reviewed: bool = False
) -> StoryClaim:
    return StoryClaim(article_id="0123456789abcdef", source="a.txt", claim_id=claim_id, statement="s", claimant="x",
                      similarity=similarity, verdict=verdict, machine_verdict=verdict, negates=negates,
                      reviewed=reviewed)  # fmt: skip


def test_a_negated_claim_backed_debunks_and_the_deciding_claim_is_named() -> None:
    assert _claim("c1", VerdictLabel.supported, 0.8, negates=True).stance is Stance.debunks
    assert _claim("c1", VerdictLabel.refuted, 0.8, negates=True).stance is Stance.backs
    assert _claim("c1", VerdictLabel.disputed, 0.8, negates=True).stance is Stance.disputed
    near, far = _claim("c1", VerdictLabel.unverified, 0.9), _claim("c2", VerdictLabel.disputed, 0.6)
    stance, deciding = article_stance_and_claim([near, far])
    assert stance is Stance.disputed and deciding.claim_id == "c2"  # the claim with the denial, not the nearest
    # A reviewer's verdict on one claim is the desk's word for the article: the machine's others do not count.
    stance, deciding = article_stance_and_claim([near, _claim("c2", VerdictLabel.supported, 0.6, reviewed=True)])
    assert stance is Stance.backs and deciding.claim_id == "c2"


def test_a_fact_check_stating_the_negation_debunks_and_the_statement_is_affirmative(seed_out: Path) -> None:
    write_result(seed_out, debunking_article())
    story = musk_story(update_stories(seed_out).stories)
    debunks = next(c for c in story.claims if c.source == "debunks.txt")
    assert debunks.negates and debunks.verdict is VerdictLabel.supported and debunks.stance is Stance.debunks
    assert not negated(story.statement)
    assert not any(c.negates for c in story.claims if c.source != "debunks.txt")


# -- the schema ----------------------------------------------------------------------------------


def test_story_schema_round_trip_and_consistency(seed_out: Path) -> None:
    story = musk_story(update_stories(seed_out).stories)
    line = (seed_out / STORIES_FILE).read_text(encoding="utf-8").splitlines()[0]
    data = json.loads(line)
    assert data["stance_counts"]["disputed"] == 1 and data["claims"][0]["stance"] in {s.value for s in Stance}
    assert Story.model_validate_json(line) == story
    broken = dict(data, canonical_claim_id="c99")
    with pytest.raises(ValueError, match="canonical claim"):
        Story.model_validate(broken)
    with pytest.raises(ValueError, match="articles must be exactly"):
        Story.model_validate(dict(data, articles=data["articles"][:1]))


# -- the command ---------------------------------------------------------------------------------


def test_stories_command_prints_largest_first_with_stance_counts(seed_out: Path) -> None:
    write_result(seed_out, debunking_article())
    result = runner.invoke(app, ["stories", str(seed_out)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "3 articles, 5 claims  [backs 1 debunks 1 disputed 1]" in lines[0] and MUSK_PUTIN[0] in lines[0]
    assert lines[1] == "    outlets: Check Desk, Daily Caller News Foundation, ledger.example"
    assert "embedded 10 claims from 4 new results" in result.output
    again = runner.invoke(app, ["stories", str(seed_out), "--min-articles", "2"])
    assert again.exit_code == 0 and len(again.stdout.splitlines()) == 2
    assert "embedded 0 claims from 0 new results" in again.output


def test_stories_command_shows_reviewed_verdicts(seed_out: Path) -> None:
    from pipeline.review.store import ReviewLog
    from schemas.review import ReviewAction, ReviewRequest

    story = musk_story(update_stories(seed_out).stories)
    seed = musk_putin_article()
    entry = next(a for a in story.articles if a.article_id == seed.article.id)
    ReviewLog(seed_out).append(seed, entry.claim_id,
                               ReviewRequest(action=ReviewAction.override, reviewer="Ann",
                                             verdict=VerdictLabel.supported, reason="confirmed"))  # fmt: skip
    result = runner.invoke(app, ["stories", str(seed_out), "--top", "1"])
    assert "[backs 2]" in result.stdout, result.stdout


@pytest.mark.parametrize("make", ["missing", "file", "empty"])
def test_stories_command_on_a_bad_folder_is_one_line(tmp_path: Path, make: str) -> None:
    target = tmp_path / "out"
    if make == "file":
        target.write_text("x")
    elif make == "empty":
        target.mkdir()
    result = runner.invoke(app, ["stories", str(target)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(target) in lines[0]
    assert "Traceback" not in result.output


def test_stories_command_prints_statements_as_plain_text(tmp_path: Path) -> None:
    out = tmp_path / "out"
    text = "Officials said [bold]the bridge[/bold] will reopen in May.\n"
    write_result(out, article(text, [("[bold]The bridge[/bold] will reopen in May", "will reopen in May", None)],
                              source="[red]x.txt"))
    result = runner.invoke(app, ["stories", str(out)])
    assert result.exit_code == 0, result.output
    assert "[bold]The bridge[/bold] will reopen in May" in result.stdout and "[unknown 1]" in result.stdout


# -- the FNC-1 evaluation command --------------------------------------------------------------


def test_evaluation_tunes_on_some_stories_and_reports_on_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv

    from pipeline.stance.data import read_fnc
    from pipeline.stories.evaluate import main, sample_claims, split_stories

    # Four stories, each a body with two related headlines (and one unrelated pair that links nothing).
    stories = [MUSK_PUTIN[:2], OTHERS[:2], ["Apple will sell a car in 2026", "Apple plans to launch its own car"],
               ["A frog species was discovered in Peru",
                "Scientists found a new frog in the Peruvian Amazon"]]  # fmt: skip
    folder = tmp_path / "fnc"
    folder.mkdir()
    with (folder / "train_bodies.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Body ID", "articleBody"])
        writer.writerows([[str(i), f"body {i}"] for i in range(len(stories))])
    with (folder / "train_stances.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Headline", "Body ID", "Stance"])
        for i, headlines in enumerate(stories):
            writer.writerows([[h, str(i), "agree"] for h in headlines])
            writer.writerow([stories[(i + 1) % len(stories)][0], str(i), "unrelated"])
    corpus = read_fnc(folder)
    tune, report = split_stories(corpus, seed=1)
    assert tune and report and not tune & report and len(tune | report) == 4
    claims = sample_claims(corpus, report, bodies=10, seed=1)
    assert len(claims.texts) == 2 * len(report) and claims.stories == len(report)

    assert main([str(folder), "--sample", "10", "--json", str(tmp_path / "figures.json")]) == 0
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert figures["report"]["true_stories"] == len(report) and 0 <= figures["report"]["shipped"]["f1"] <= 1
    assert "B-cubed P" in capsys.readouterr().out
    assert main([str(tmp_path / "nowhere")]) == 1


def test_factcheck_run_builds_stories_unless_told_not_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTCHECK_CACHE_DIR", str(tmp_path / "cache"))
    write_articles(tmp_path / "in", 2)
    with FakeOpenAI(latency=0.001) as fake:
        args = ["run", str(tmp_path / "in"), "--base-url", fake.base_url, "--model", "gpt-4o-mini", "--quiet"]
        skipped = runner.invoke(
            app, [*args, "--out", str(tmp_path / "plain"), "--no-stories"], env={"OPENAI_API_KEY": "test"}
        )
        built = runner.invoke(app, [*args, "--out", str(tmp_path / "out")], env={"OPENAI_API_KEY": "test"})
    assert skipped.exit_code == 0 and not (tmp_path / "plain" / STORIES_FILE).exists()
    assert built.exit_code == 0, built.output
    assert (tmp_path / "out" / STORIES_FILE).is_file()
    assert "over 2 articles" in built.output and "embedded" in built.output
