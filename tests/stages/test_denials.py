"""Denials post-processing: who said the quoted words, and which claims a denial can target."""

import json

from scripted import run_scripted
from recording import SEED as SEED_FILE

from pipeline.stages import denials as denials_stage
from pipeline.stages.denials import _speaker
from pipeline.text.attributions import find_attributions
from pipeline.text.document import windows
from schemas import Claim, ClaimKind

SEED = SEED_FILE.read_text(encoding="utf-8")
MUSK_WORDS = "I have spoken to Putin only once and that was about 18 months ago."


def test_the_speaker_is_whoever_the_article_credits_with_the_quoted_words() -> None:
    window = windows(SEED)[0]
    quote = window.align(MUSK_WORDS)
    assert quote is not None
    attributions = find_attributions(SEED)
    assert _speaker("Eurasia Group’s Ian Bremmer", [quote], attributions) == "Musk"
    assert _speaker("Elon Musk", [quote], attributions) == "Elon Musk"  # a fuller name of the same person stays


def _claim(
    claim_id: str, claimant: str, sentence: str, statement: str = "Elon Musk spoke with Vladimir Putin about Ukraine."
) -> Claim:
    start = SEED.index(sentence)
    return Claim(
        id=claim_id, statement=statement, claimant=claimant, cue="said", kind=ClaimKind.quote, checkworthiness=0.8,
        spans=[{"start": start, "end": start + len(sentence), "text": sentence}],  # type: ignore[list-item]
    )


def test_a_denial_is_credited_to_its_speaker_and_never_targets_the_speakers_own_claim() -> None:
    claims = [
        _claim("c1", "Bremmer", "Bremmer claimed Musk told him"),
        _claim("c2", "Elon Musk", "Musk subsequently denied the conversation"),
    ]
    # What the 1.5B answered on the seed, cold: the right words, the wrong speaker, every claim.
    answer = {"denials": [{"speaker": "Eurasia Group’s Ian Bremmer", "disputes": "the call", "kind": "explicit_denial",
                           "claim_ids": ["c1", "c2"], "sentence": [14], "quote": MUSK_WORDS}]}

    [denial] = run_scripted(lambda body: json.dumps(answer),
                            lambda llm: denials_stage.find_denials(llm, windows(SEED)[0], claims)).value
    assert denial.speaker == "Musk"
    assert denial.claim_ids == ["c1"]  # not Musk's own c2
    assert denial.spans[0].text == MUSK_WORDS


NON_RESPONSE = "SpaceX and the Kremlin did not immediately respond to the DCNF’s request for comment."


def _denials_for(answer: dict[str, object]) -> list[object]:
    claims = [_claim("c1", "Bremmer", "Bremmer claimed Musk told him")]
    return run_scripted(lambda body: json.dumps(answer),
                        lambda llm: denials_stage.find_denials(llm, windows(SEED)[0], claims)).value


def test_did_not_immediately_respond_is_a_non_denial_whatever_the_model_says() -> None:
    # The model calls the newsroom formula an explicit denial of c1 (the seed's sentence 14).
    answer = {"denials": [{"speaker": "SpaceX and the Kremlin", "disputes": "the call", "kind": "explicit_denial",
                           "claim_ids": ["c1"], "sentence": [14], "quote": NON_RESPONSE}]}
    [denial] = _denials_for(answer)
    assert denial.spans[0].text == NON_RESPONSE  # the path under test ran on that very sentence
    assert denial.kind.value == "non_denial" and not denial.is_denial
    assert denial.claim_ids == []


def test_a_non_denial_never_keeps_a_link_to_a_claim() -> None:
    answer = {"denials": [{"speaker": "SpaceX and the Kremlin", "disputes": "the call", "kind": "non_denial",
                           "claim_ids": ["c1"], "sentence": [14], "quote": NON_RESPONSE}]}
    [denial] = _denials_for(answer)
    assert not denial.is_denial and denial.claim_ids == []


def test_each_draft_is_kept_or_dropped_on_its_own_and_the_kept_are_numbered_in_order() -> None:
    claims = [_claim("c1", "Bremmer", "Bremmer claimed Musk told him"),
              _claim("c2", "Vice News", "Technology mogul Elon Musk allegedly spoke ")]
    unalignable = "Musk said that no conversation of any kind with the Russian president ever took place"
    touching = "to Russian President Vladimir Putin around two weeks ago"  # starts where c2's span ends
    answer = {"denials": [
        {"speaker": "Eurasia Group", "disputes": "x", "kind": "explicit_denial", "claim_ids": ["c1"], "sentence": [3],
         "quote": "Bremmer claimed Musk told him"},  # the claim's own words: no denial of it
        {"speaker": "Nobody", "disputes": "x", "kind": "explicit_denial", "claim_ids": ["c1"], "sentence": [99],
         "quote": ""},  # nothing in the article
        {"speaker": "Musk", "disputes": "the call", "kind": "explicit_denial", "claim_ids": ["c1"], "sentence": [14],
         "quote": unalignable},  # words not in the article: the cited sentence stands in
        {"speaker": "SpaceX and the Kremlin", "disputes": "x", "kind": "non_denial", "claim_ids": [], "sentence": [26],
         "quote": NON_RESPONSE},
        {"speaker": "Kremlin", "disputes": "the call", "kind": "explicit_denial", "claim_ids": ["c2"], "sentence": [2],
         "quote": touching},  # touching the claim's span is not quoting it
        {"speaker": "Bremmer", "disputes": "nothing", "kind": "non_denial", "claim_ids": ["c1"], "sentence": [3],
         "quote": "Bremmer claimed Musk told him"},  # a non-denial may quote anything: it disputes nothing
    ]}
    outcome = run_scripted(lambda body: json.dumps(answer),
                           lambda llm: denials_stage.find_denials(llm, windows(SEED)[0], claims))
    kept = outcome.value
    # d3's words are Bremmer's in the article: the speaker is corrected to whom the article credits.
    assert [(d.id, d.speaker) for d in kept] == [
        ("d1", "Musk"), ("d2", "SpaceX and the Kremlin"), ("d3", "the Eurasia Group’s Ian Bremmer"), ("d4", "Bremmer")]
    assert kept[0].spans[0].text == "“I have spoken to Putin only once and that was about 18 months ago."
    assert kept[0].claim_ids == ["c1"] and kept[2].claim_ids == ["c2"] and kept[2].spans[0].text == touching
    assert kept[3].claim_ids == []
    warnings = outcome.warnings
    assert any("dropped 'Eurasia Group': quotes the claim it would dispute" in w for w in warnings)
    assert any("dropped statement by Nobody: no quote or sentence" in w for w in warnings)
    assert any(f"dropped unalignable quote {unalignable[:60]!r} by Musk" in w for w in warnings)
    assert not any("SpaceX" in w or "'Bremmer'" in w for w in warnings)  # the non-denials pass untouched


def test_the_passages_a_denial_is_read_from_are_the_claim_the_cues_and_their_neighbours() -> None:
    text = (
        "The mayor opened a park on Monday. Critics said it cost 40 million dollars. The weather was fine. "
        "Schools were closed. Traffic was heavy. The council's spokesperson spoke later. "
        "The spokesperson denied the figure. Budgets are published in May. Parks are popular. Rain is expected."
    )
    window = windows(text)[0]
    claim = Claim(
        id="c1", statement="The park cost 40 million dollars.", claimant="Critics", cue="said", kind=ClaimKind.fact,
        checkworthiness=0.9, spans=[window.span(2)],
    )  # fmt: skip
    assert denials_stage.passages(window, [claim]) == {2, 6, 7, 8}  # the claim; the denial and either side

    focus = window.focused(denials_stage.passages(window, [claim]))
    shown = focus.system_message
    assert "[7] The spokesperson denied the figure." in shown and "Schools were closed" not in shown
    assert "[2] Critics said it cost 40 million dollars.\n[...]\n[6]" in shown  # a gap is marked, numbers kept
    # What the model cites in a focused window is still located in the full article.
    assert (
        focus.sentence(7).text == text[focus.span(7).start : focus.span(7).end] == "The spokesperson denied the figure."
    )
    assert focus.align("denied the figure") == window.align("denied the figure")


def test_a_denial_cited_by_its_report_also_carries_the_speakers_own_words() -> None:
    # What the 1.5B answered on the seed on session 8's recording: the article's report of the
    # denial. Musk's own words, which a desk weighs, are added by code (the article credits them to him).
    report = "Musk subsequently denied the conversation with Putin"
    answer = {"denials": [{"speaker": "Elon Musk", "disputes": "the call", "kind": "explicit_denial",
                           "claim_ids": ["c1"], "sentence": [4], "quote": report}]}
    [denial] = _denials_for(answer)
    assert [s.text[:52] for s in denial.spans] == [report, "“" + MUSK_WORDS[:51]]
    assert all(SEED[s.start : s.end] == s.text for s in denial.spans)
    # Nobody else's words join it, and a non-response never does.
    assert not any("Bremmer" in s.text or "did not immediately respond" in s.text for s in denial.spans)
