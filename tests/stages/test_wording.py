"""Claims a desk can read alone: code resolves who and what (pipeline/stages/wording.py), drops the
writer's asides, links a denial to the claim it disputes and no other, and the LLM path never loses
a claim code found."""

import asyncio
import json

import pytest
from recording import SEED

from pipeline.llm.client import LLM
from pipeline.stages import claims as claims_stage
from pipeline.stages.analyze import analyze_without_llm
from pipeline.stages._proposed import Candidate
from pipeline.stages.candidates import candidates_of
from pipeline.stages.wording import code_statement
from pipeline.testing.fake_openai import FakeOpenAI
from pipeline.text.document import windows
from pipeline.text.ingest import headline, make_article
from pipeline.text.standalone import stands_alone
from schemas import ArticleResult, Claim, Span

TEXT = SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed() -> ArticleResult:
    return asyncio.run(analyze_without_llm(make_article(TEXT, str(SEED), title=headline(TEXT))))


def _statements(text: str) -> list[Claim]:
    [window] = windows(text, title=None)
    return candidates_of(window)[1]


def _one(claims: list[Claim], words: str) -> Claim:
    found = [c for c in claims if words in c.statement]
    assert len(found) == 1, [c.statement for c in claims]
    return found[0]


def test_first_person_in_a_quotation_is_its_speaker(seed: ArticleResult) -> None:
    # "“My response was to not take Putin at face value …,” Bremmer wrote to newsletter subscribers."
    response = _one(seed.claims, "response was to not take Putin at face value")
    assert response.statement.startswith("Ian Bremmer's response was") and response.claimant == "Bremmer"
    quoted = _one(_statements("“I have met the mayor twice this year,” Ana Ruiz said on Tuesday."), "the mayor twice")
    assert quoted.statement == "Ana Ruiz has met the mayor twice this year." and quoted.standalone


def test_a_paraphrase_quoting_a_few_words_is_not_made_its_speakers_quotation() -> None:
    # "we" inside the article's straight quotes is Rhodes's; the rest is the writer's paraphrase, which
    # curly quotes under Rhodes's name would pass off as his words (PolNeAR dev did this, and the
    # same for "Watch: “…” said Carly Fiorina …").
    text = (
        "Ben Rhodes spoke to reporters on Friday. Rhodes noted that U.S. officials have long been talking with "
        'Chinese officials about the threat posed by North Korea, and "we\'re in discussions about the deployment '
        'of additional missile defense" in the area.'
    )
    claim = _one(_statements(text), "missile defense")
    assert claim.statement.startswith("U.S. officials have long been talking") and "“" not in claim.statement
    assert claim.claimant == "Rhodes" and claim.standalone
    # First person outside any quotation is still the speaker's to mean, and quoted as theirs.
    said = _one(_statements('"We will not accept any deal that raises taxes," said Senator Ana Ruiz.'), "raises taxes")
    assert said.statement == "Ana Ruiz: “We will not accept any deal that raises taxes.”"


def test_first_person_in_a_quotation_inside_the_quotation_is_not_the_speakers() -> None:
    # PolNeAR: "Lopez: Well, no one is like, ‘My 401(k) is speculation.’" The "my" is words nobody said;
    # the old code wrote "Well, no one is like, ‘Luciana Lopez's 401(k) is speculation."
    text = (
        "Luciana Lopez covers markets for Reuters.\n\nLopez: Well, no one is like, ‘My 401(k) is "
        "speculation.’ In a way, it gets to be all things to all people."
    )
    claim = _one(_statements(text), "401(k)")
    assert "‘My 401(k) is speculation" in claim.statement and "Lopez's" not in claim.statement
    assert claim.claimant == "Lopez"


def test_a_pronoun_source_is_the_person_who_fits_not_the_last_capitalised_word() -> None:
    # PolNeAR: "“… who knows what on Wednesday …” / “Well, my friends, …!” she said" was Wednesday's.
    text = (
        "“We need steady hands,” Hillary Clinton told the conference. “Not a president who says he is "
        "neutral on Monday and who knows what on Wednesday.\n\n“Well, my friends, our security is "
        "nonnegotiable!” she said."
    )
    assert _one(_statements(text), "nonnegotiable").claimant == "Hillary Clinton"
    # Two men who fit and neither opens the sentence: which one is not code's to guess.
    two = "The campaign of Ted Cruz attacked Ben Carson on Monday in Iowa. “Is this what we accept now?” he said."
    assert _one(_statements(two), "accept now").claimant not in ("Ted Cruz", "Ben Carson")


def test_he_is_the_one_person_who_fits_or_is_left_and_marked() -> None:
    one = (
        "Bradley Podliska worked for the committee for ten months. "
        "Podliska said he was fired for taking military leave."
    )
    assert _one(_statements(one), "fired").statement == "Bradley Podliska was fired for taking military leave."
    # Two men named before: which one is not for code to guess; the statement says it does not stand alone.
    two = "Jeb Bush met James Bruner in 1970. Bruner said he was like the big cheese on the court."
    left = _one(_statements(two), "big cheese")
    assert left.statement == "He was like the big cheese on the court." and left.standalone is False
    # Gender decides where the article shows it: "she" is not Tom Park.
    both = (
        "Mrs. Ann Lee cut the school budget by 12 percent. "
        "Mr. Tom Park said she had hidden the cuts from voters for two years."
    )
    assert _one(_statements(both), "hidden").statement == "Ann Lee had hidden the cuts from voters for two years."


def test_the_proposal_is_spelled_out_as_who_proposed_what(seed: ArticleResult) -> None:
    condemned = _one(seed.claims, "condemned")
    assert condemned.statement.startswith(
        "Ukrainian President Volodymyr Zelenskyy condemned Musk's proposal that the West recognize "
        "Russia’s annexation of Ukrainian territory through revised elections under UN supervision as anti-Ukraine"
    )
    assert "in an Oct. 3 tweet" not in condemned.statement and condemned.standalone


def test_the_three_components_are_putins_conditions_as_bremmer_relays_musk(seed: ArticleResult) -> None:
    components = _one(seed.claims, "three components")
    assert components.statement.startswith(
        "The minimum Vladimir Putin would require to end the war had three components: (1)"
    )
    assert components.claimant == "Bremmer" and components.via == ["Elon"]  # in Bremmer's quotation, after "he told me"
    assert components.standalone


def test_that_outcome_is_the_outcome_the_sentence_before_states(seed: ArticleResult) -> None:
    outcome = _one(seed.claims, "to avoid")
    assert outcome.statement == (
        "Everything needed to be done to avoid the outcome that if Zelensky invaded Crimea, "
        "Russia would retaliate with a nuclear strike on Ukraine."
    )


def test_the_writers_aside_is_no_claim(seed: ArticleResult) -> None:
    assert not [c.statement for c in seed.claims if "planning on writing" in c.statement]
    text = (
        "As I sat down to write this column on the library budget, "
        "I was not sure the city council would cut 40 percent. "
        "I wasn't planning on writing about the library budget until the council cut it by 40 percent in 2023."
    )
    assert [c.statement for c in _statements(text)] == []  # the writer's scene and plans


def test_a_denial_is_linked_to_the_claim_it_disputes_and_to_no_other(seed: ArticleResult) -> None:
    [call] = [c for c in seed.claims if "spoke to Russian President Vladimir Putin" in c.statement]
    assert len(call.spans) >= 3  # the same proposition, in the three sentences that state it, is one claim
    [musk] = [d for d in seed.denials if d.speaker == "Musk"]
    assert musk.claim_ids == [call.id]  # not Musk's worry about threats from Putin, though it names Putin too
    assert not [d for d in seed.denials if any("did not immediately respond" in s.text for s in d.spans)]
    assert seed.verdict_for(call.id).verdict.value == "disputed"  # type: ignore[union-attr]


def test_the_seed_without_an_llm_has_seven_check_worthy_claims_that_stand_alone(seed: ArticleResult) -> None:
    from pipeline.stance.checkworthy import THRESHOLD

    worthy = [c for c in seed.claims if c.checkworthiness >= THRESHOLD and c.standalone and stands_alone(c.statement)]
    assert len(worthy) >= 7, [c.statement for c in seed.claims]


# Twelve check-worthy reports, and one that points back: the call is shown ten.
_COUNCILLORS = (
    "Ann Lee:school:12, Tom Park:library:8, Bo Chan:police:5, Ed Moss:parks:9, Al Ruiz:transit:4, "
    "Di Ford:housing:7, Cy Hart:water:3, Jo Kent:fire:6, Lu Webb:roads:11, Max Orr:health:2, Ned Fox:arts:14, "
    "Ola Dee:youth:13"
)
BUDGET = (
    " ".join(
        f"Councillor {name} said the city cut the {item} budget by {n} percent in 2023."
        for name, item, n in (entry.split(":") for entry in _COUNCILLORS.split(", "))
    )
    + " Mayor Kim Yu said that outcome had hurt every school in the district."
)


def test_the_llm_path_keeps_every_candidate_beyond_the_ones_it_was_shown() -> None:
    [window] = windows(BUDGET, title=None)
    worthy, code_claims, _ = candidates_of(window)
    assert len(worthy) == 13

    async def go(llm: LLM) -> tuple[list[Claim], list[str]]:
        try:
            out = await claims_stage.write_claims(llm, window, max_claims=10)
        finally:
            await llm.close()
        return out.value[0], out.warnings

    with FakeOpenAI() as fake:
        llm = LLM(backend="openai", base_url=fake.base_url, api_key="fake", model="fake-model", max_attempts=1)
        written, warnings = asyncio.run(go(llm))
    assert len(written) == 13  # every one a claim: no cap of 10 loses one
    assert {c.statement for c in code_claims} == {c.statement for c in written}  # the fake rewrites nothing
    outcome = _one(written, "had hurt every school")
    assert outcome.statement.startswith("The outcome that the city cut the") and outcome.standalone
    assert any("3 more candidate(s) beyond the 10 the call writes" in w for w in warnings)


def test_a_models_statement_that_does_not_stand_alone_gives_way_to_codes() -> None:
    from scripted import run_scripted

    text = (
        "Mayor Ann Lee cut the school budget by 12 percent in 2023. "
        "Councillor Tom Park said she had hidden the cuts from voters."
    )
    [window] = windows(text, title=None)

    def answer(statement: str):  # type: ignore[no-untyped-def]
        def reply(body: dict[str, object]) -> str:
            schema = body["tools"][0]["function"]["parameters"]  # type: ignore[index]
            asked = list(schema.get("$defs", {}).get("Statements", {}).get("properties", []))
            return json.dumps({"statements": {i: statement for i in asked}, "drop": []})

        return reply

    def run(statement: str):  # type: ignore[no-untyped-def]
        return run_scripted(answer(statement), lambda llm: claims_stage.write_claims(llm, window))

    kept = run("She hid the cuts from the voters of the city.")  # no better than code's
    assert "She had hidden the cuts from voters." in [c.statement for c in kept.value[0]]
    assert any("kept the article's words as code states them" in w for w in kept.warnings)
    rewritten = run("Ann Lee had hidden the cuts from voters.")  # it stands alone: taken
    [hid] = [c for c in rewritten.value[0] if c.claimant == "Councillor Tom Park"]
    assert hid.statement == "Ann Lee had hidden the cuts from voters." and hid.standalone


@pytest.mark.parametrize(
    "text",
    [
        "Kennedy said in a statement Monday that it was the unidentified FBI official who first raised the idea of a "
        "quid pro quo.",
        "The official told the committee in an interview Monday that it was the unidentified FBI official who first "
        "raised the idea of a quid pro quo.",
    ],
)
def test_a_content_cut_before_its_cue_is_cut_at_the_cue(text: str) -> None:
    [claim] = _statements(text)
    assert claim.statement == "It was the unidentified FBI official who first raised the idea of a quid pro quo."
    assert claim.standalone


def _own_voice(text: str, words: str) -> str:
    """Code's statement for the article's own sentence holding ``words``, check-worthy or not."""
    [window] = windows(text, title="A headline")
    [number] = [n for n in window.numbers if words in window.sentence(n).text]
    sentence = window.span(number)
    candidate = Candidate(sentence, (number,), "the article", (), "none", None, None, 1.0)
    return code_statement(window, candidate).text


def test_he_in_a_speakers_own_quotation_is_not_the_speaker() -> None:
    text = (
        "Exit polls showed that 65 percent of Republicans supported Donald Trump's call for a ban.\n\n"
        "“He says what everyone else wants to say but they're too scared to say,” said Steve Moody, a "
        "small-business owner."
    )
    claim = _one(_statements(text), "everyone else wants to say")
    assert claim.statement.startswith("Donald Trump says what everyone else wants to say"), claim.statement


def test_a_pronoun_opening_the_articles_sentence_is_the_subject_before_it() -> None:
    text = (
        "Amanda Renteria is the campaign's political director and went to Flint last week to talk with Karen Weaver. "
        "She has experience in the state, having served as chief of staff to a Michigan senator."
    )
    statement = _own_voice(text, "experience in the state")
    assert statement.startswith("Amanda Renteria has experience in the state"), statement


def test_a_pronoun_with_no_one_in_the_sentence_before_looks_further_back() -> None:
    text = (
        "Rival Republican candidates have long criticized Donald Trump for once holding liberal views on abortion. "
        "And conservative commentators have exposed his apostasy on free trade and entitlements. "
        "But nowhere was his break with the party's orthodoxy more vivid than in the debate last Saturday."
    )
    statement = _own_voice(text, "orthodoxy")
    assert "Donald Trump's break with the party's orthodoxy" in statement, statement


def test_a_titled_name_resolves_where_the_surname_is_shared() -> None:
    text = (
        "Jeb Bush is the son of George H.W. Bush and the brother of George W. Bush. "
        "Mr. Bush has struggled to gain traction with his party's base and sits at single digits in the polls. "
        "A new Gallup poll also showed his net favorability numbers among Republicans falling to 44 percent."
    )
    claim = _one(_statements(text), "favorability")
    assert "Mr. Bush's net favorability numbers" in claim.statement, claim.statement
    # "he or she" is anyone: no one is put in its place.
    survey = _one(
        _statements(
            "The Census Bureau's survey asks where each resident of a household was born and whether he or "
            "she is a U.S. citizen, the bureau said."
        ),  # fmt: skip
        "citizen",
    )
    assert "he or she" in survey.statement, survey.statement


def test_a_quotation_that_goes_on_after_its_cue_is_the_same_speakers() -> None:
    text = (
        "Keith Hutto, a plumbing contractor, attended the rally. "
        "“My business in 2006, halfway through, it got bad,” Mr. Hutto said. "
        "“We kept the doors open and all, but right into 2008 and even into 2010, it was tough.”"
    )
    claim = _one(_statements(text), "doors open")
    assert claim.claimant == "Mr. Hutto" and claim.statement.startswith("Keith Hutto: “We kept the doors open"), claim


def test_first_person_outside_any_quotation_is_the_writers() -> None:
    text = (
        "The Census Bureau has sent its survey to more than 3 million households a year. "
        "This is why, despite hectoring phone calls from the bureau, I refuse to answer the American Community Survey."
    )
    statement = _own_voice(text, "refuse to answer")
    assert statement == (
        "The writer: “This is why, despite hectoring phone calls from the bureau, I refuse to answer the American "
        "Community Survey.”"
    )
    # A quotation's first person stays its speaker's, even one the claim's words open outside of.
    quoted = "Mr. Trump was more direct about the party's rift, what he called ''our arguments this year.''"
    assert not _own_voice("A headline line. " + quoted, "more direct").startswith("The writer")


def _reported(text: str, source: str, cue: str, content: str) -> str:
    """Code's statement for ``content``, reported by ``source`` with ``cue`` (the first of each in the text)."""
    [window] = windows(text, title="A headline")

    def span(words: str) -> Span:
        start = text.index(words)
        return Span(start=start, end=start + len(words), text=words)

    content_span = span(content)
    numbers = tuple(window.sentence_numbers_of(content_span))
    candidate = Candidate(content_span, numbers, source, (), cue, span(source), span(cue), 1.0)
    return code_statement(window, candidate).text


def test_he_after_someone_who_is_that_one_named_or_not() -> None:
    # "a president who says he's …": he is that president, not Hillary Clinton, named just before.
    text = (
        '"We need steady hands," Hillary Clinton told AIPAC, referring to the business mogul but not naming him. '
        "\"Not a president who says he's neutral on Monday, pro-Israel on Tuesday and who knows what on Wednesday "
        'because everything is negotiable."'
    )
    statement = _reported(text, "who", "says", "he's neutral on Monday, pro-Israel on Tuesday")
    assert statement.startswith("He's neutral on Monday"), statement
    # "X, who …": where X is a person the article names, he is X.
    named = "That is good news for a would-be president, Donald Trump, who will find just the data he needs."
    assert _reported(named, "who", "will find", "just the data he needs") == "Just the data Donald Trump needs."
