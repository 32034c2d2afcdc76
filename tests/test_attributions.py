"""The rule-based attribution stage, on texts written for these tests, and its place in results and eval."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.attributions import credited_with, find_attributions
from pipeline.denials import _speaker
from pipeline.evaluate import load_polnear, score_attribution
from pipeline.spans import align_quote
from schemas import ArticleMeta, ArticleResult, Attribution, MatchKind, RunInfo, Span

SEED = Path(__file__).parents[1] / "seeds" / "musk-putin-bremmer.txt"
POLNEAR_SAMPLE = Path(__file__).parent / "eval_samples" / "polnear_sample"


def triples(text: str) -> list[tuple[str | None, str, str | None]]:
    return [
        (a.source.text if a.source else None, a.cue.text, a.content.text if a.content else None)
        for a in find_attributions(text)
    ]


def assert_aligned(text: str, found: list[Attribution]) -> None:
    for attribution in found:
        for span in attribution.spans():
            assert text[span.start : span.end] == span.text
            assert span.match is MatchKind.exact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # reported clause after the cue
        ("The mayor said the water is safe to drink.", [("The mayor", "said", "the water is safe to drink")]),
        # quotation before the cue, speaker then cue, a time adjunct after
        (
            "“We will not back down,” Governor Ann Lee said on Monday.",
            [("Governor Ann Lee", "said", "“We will not back down,”")],
        ),
        # inverted order: cue, then the speaker and an appositive
        (
            "“The budget is balanced,” said Tom Reyes, the city treasurer.",
            [("Tom Reyes", "said", "“The budget is balanced,”")],
        ),
        # quotation after the cue and its addressee
        ("Reyes told reporters: “Nothing is missing.”", [("Reyes", "told", "“Nothing is missing.”")]),
        # "according to", trailing and fronted
        (
            "The plant will close in March, according to two company officials.",
            [("two company officials", "according to", "The plant will close in March")],
        ),
        ("According to the report, prices rose 4 percent.", [("the report", "According to", "prices rose 4 percent")]),
        # a fronted clause with the speaker after it
        ("Prices will rise next year, the bank warned.", [("the bank", "warned", "Prices will rise next year")]),
        # the subject of the sentence behind an appositive
        (
            "Maria Gomez, a nurse at the clinic, said the shortage was worsening.",
            [("Maria Gomez, a nurse at the clinic,", "said", "the shortage was worsening")],
        ),
        # a passive cue with its agent
        ("The proposal was criticized by the union as too timid.", [("the union", "criticized", "as too timid")]),
        # the typewriter quotation convention
        ("''It is over,'' said Mr. Bray.", [("Mr. Bray", "said", "''It is over,''")]),
    ],
)
def test_one_attribution(text: str, expected: list[tuple[str | None, str, str | None]]) -> None:
    assert triples(text) == expected
    assert_aligned(text, find_attributions(text))


def test_pronoun_sources_and_several_sentences() -> None:
    text = (
        "Officials have denied that the bridge is unsafe. Engineers, however, warned that cracks were spreading. "
        "“It could fail,” one engineer said. She added that repairs would take a year."
    )
    assert triples(text) == [
        ("Officials", "have denied", "that the bridge is unsafe"),
        ("Engineers", "warned", "that cracks were spreading"),
        ("one engineer", "said", "“It could fail,”"),
        ("She", "added", "that repairs would take a year"),
    ]
    found = find_attributions(text)
    assert [a.id for a in found] == ["a1", "a2", "a3", "a4"]
    assert_aligned(text, found)


def test_a_quotation_spanning_sentences_is_one_content() -> None:
    text = "“We lost. We will be back next year,” the coach said."
    assert triples(text) == [("the coach", "said", "“We lost. We will be back next year,”")]


def test_no_attribution_without_a_reporting_cue() -> None:
    assert find_attributions("The river flooded the valley after three days of rain.") == ()
    # Reporting words used as nouns, and words inside a quotation, are not the article's attributions.
    assert find_attributions("The report was delayed by a week, and the claims of fraud were dropped.") == ()
    assert triples("“Tell them I said no,” Ray shouted.") == [("Ray", "shouted", "“Tell them I said no,”")]


def test_transcript_speakers_but_not_captions_or_section_labels() -> None:
    transcript = "Chris Matthews spoke with Maria Lopez.\nMatthews: Prices are up.\nLopez: Wages are not."
    assert [(s, c) for s, c, _ in triples(transcript)] == [("Matthews", ":"), ("Lopez", ":")]
    # Photo captions and section labels open lines with a word and a colon; nobody speaks.
    captions = "Agony: the farmer tries to block out the pain.\nRELATED: Ten foods to avoid\nOrigins: A satire site ran it."
    assert triples(captions) == []


def test_the_seed_article_finds_bremmer_and_musk_and_every_span_aligns() -> None:
    text = SEED.read_text(encoding="utf-8")
    found = find_attributions(text)
    assert_aligned(text, found)
    sources = {a.source.text for a in found if a.source}
    assert {"Bremmer", "Musk"} <= sources
    # "Musk subsequently denied the conversation": the denial is attributed to Musk.
    denial = next(a for a in found if "denied" in a.cue.text)
    assert denial.source is not None and denial.source.text == "Musk"


def _result(text: str, attributions: list[Attribution]) -> ArticleResult:
    return ArticleResult(
        article=ArticleMeta(id="0123456789abcdef", source="x.txt"),
        text=text,
        attributions=attributions,
        run=RunInfo(backend="b", model="m", prompt_versions={}, started_at=datetime.now(UTC), seconds=1.0),
    )


def test_result_checks_attribution_spans_and_old_results_load() -> None:
    text = "The mayor said the water is safe."
    result = _result(text, find_attributions(text))
    assert ArticleResult.model_validate_json(result.model_dump_json()) == result
    wrong = Attribution(id="a1", cue=Span(start=0, end=4, text="said"))
    with pytest.raises(ValueError, match="is not the article text"):
        _result(text, [wrong])
    # A result written before the attribution stage existed still loads, with none.
    old = result.model_dump(mode="json")
    del old["attributions"]
    assert ArticleResult.model_validate(old).attributions == []


def test_eval_scores_the_attribution_stage() -> None:
    doc = load_polnear(POLNEAR_SAMPLE)[0]
    text = doc.article.text
    found = find_attributions(text)
    scores = score_attribution([doc], {doc.id: _result(text, found)})
    # No claims at all: every source the scorer sees comes from the attribution stage.
    assert scores.predicted_claims == 0
    assert scores.source.overlap.n_pred == len({(a.source.start, a.source.end) for a in found if a.source}) > 0
    assert scores.source.overlap.tp >= 2 and scores.claimant_name.tp >= 2


@pytest.mark.parametrize(
    "text",
    ["The report was published on Monday.", "A claim by the council was false.", "The statement came late.",
     "This warning was ignored by everyone."],
)
def test_a_reporting_word_after_a_determiner_is_a_noun_not_a_cue(text: str) -> None:
    assert find_attributions(text) == ()


def test_a_short_quote_inside_a_longer_content_is_credited_to_its_source() -> None:
    text = ("Musk told reporters on Monday that the launch would slip to June, that the engines needed more tests, "
            "and that he had spoken to Putin only once about space.")
    quote = align_quote(text, "he had spoken to Putin only once")
    assert quote is not None
    attributions = find_attributions(text)
    credit = credited_with(quote, attributions)
    assert credit is not None and credit.source is not None and credit.source.text == "Musk"
    assert _speaker("Ian Bremmer", [quote], attributions) == "Musk"  # the model's wrong speaker is corrected
