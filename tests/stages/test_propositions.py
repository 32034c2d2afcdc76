"""One claim per proposition: standalone statements, denial reports, duplicates, denial links."""

import pytest

from pipeline.stages.propositions import merge_duplicates, unlink_unrelated
from pipeline.stages.wording import reports_a_denial, resolve_descriptions, without_personal_asides
from pipeline.stages.wording import without_attribution as standalone
from pipeline.text.lexicon import ATTRIBUTION_WORDS
from pipeline.stance.embedder import shared_embedder
from schemas import Claim, ClaimKind, Denial, DenialKind, Span

TEXT = (
    "Ana Ruiz wrote that Tom Lee told her he had met Mayor Kim Park in March. "
    "Lee met Park in March, Ruiz said. "
    "The city will build 40 new schools by 2030, the council announced. "
    "“I have met Tom Lee only once, years ago,” Park said."
)


def _span(text: str) -> Span:
    start = TEXT.index(text)
    return Span(start=start, end=start + len(text), text=text)


def _claim(i: int, statement: str, sentence: str, claimant: str = "Ana Ruiz") -> Claim:
    return Claim(
        id=f"c{i}", statement=statement, claimant=claimant, cue="wrote", kind=ClaimKind.fact,
        checkworthiness=0.5 + i / 10, spans=[_span(sentence)],
    )


@pytest.mark.parametrize(
    ("statement", "expected", "sources"),
    [
        (
            "Ana Ruiz wrote that Tom Lee told her he had met Mayor Kim Park in March.",
            "Lee had met Mayor Kim Park in March.",
            ["Ana Ruiz", "Tom Lee"],
        ),
        (
            "Tom Lee allegedly met Kim Park in March, according to Ana Ruiz.", "Tom Lee met Kim Park in March.",
            ["Ana Ruiz"],
        ),
        ("Tom Lee met Kim Park in March.", "Tom Lee met Kim Park in March.", []),
        ("The council said the city will build 40 new schools", "The city will build 40 new schools.", ["The council"]),
        # Where it was claimed goes with who claimed it.
        (
            "Bremmer claimed Musk told him the Tesla CEO had communicated with Putin roughly two weeks prior in a "
            "newsletter to Eurasia Group subscribers first reported by Vice on Tuesday, which the DCNF has obtained.",
            "The Tesla CEO had communicated with Putin roughly two weeks prior.",
            ["Bremmer", "Musk"],
        ),
        (
            "The mayor said in an interview on Monday that the bridge will reopen", "The bridge will reopen.",
            ["The mayor"],
        ),
        # A sentence ending inside its quote is ended.
        ("Tom Lee said the referendum was a “sham.”", "The referendum was a “sham.”", ["Tom Lee"]),
        # What is claimed of a proposal is that it was made: the proposing stays.
        ("Tom Lee suggested that the city sell the stadium.", "Tom Lee suggested that the city sell the stadium.", []),
        # Not attributed: a venue in the proposition itself stays.
        (
            "The city published the plans in a statement to the council.",
            "The city published the plans in a statement to the council.",
            [],
        ),
    ],
)
def test_attribution_words_come_off_and_their_names_are_kept(statement: str, expected: str, sources: list[str]) -> None:
    assert standalone(statement) == (expected, sources)
    assert not ATTRIBUTION_WORDS.search(expected)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("Putin (in a direct conversation with him) was ‘prepared to negotiate’ (much as I had heard from Shanghai "
         "cooperation organization members the week before) and had outlined the minimum he would require.",
         "Putin was ‘prepared to negotiate’ and had outlined the minimum he would require."),
        ("There were three components: (1) Crimea remains Russian, (2) Ukraine accepts neutrality.",
         "There were three components: (1) Crimea remains Russian, (2) Ukraine accepts neutrality."),
        ("The plan (announced in March) costs $4 million.", "The plan (announced in March) costs $4 million."),
    ],
)
def test_asides_in_someones_voice_come_off_numbered_items_and_facts_stay(statement: str, expected: str) -> None:
    assert without_personal_asides(statement) == expected


@pytest.mark.parametrize(
    ("statement", "is_denial_report"),
    [
        ("Musk subsequently denied the conversation with Putin had occurred.", True),
        ("The ministry rejected the allegations of fraud.", True),
        ("Park dismissed the reports as false.", True),
        ("The council rejected the offer from the developer.", False),
        ("Tom Lee met Kim Park in March.", False),
    ],
)
def test_a_sentence_reporting_a_denial_is_not_a_claim(statement: str, is_denial_report: bool) -> None:
    assert reports_a_denial(statement) is is_denial_report


def test_the_same_proposition_in_other_words_is_one_claim_with_every_span() -> None:
    claims = [
        _claim(
            1, "Tom Lee met Mayor Kim Park in March.",
            "Ana Ruiz wrote that Tom Lee told her he had met Mayor Kim Park in March.",
        ),
        _claim(
            2, "The city will build 40 new schools by 2030.",
            "The city will build 40 new schools by 2030, the council announced.", "the council",
        ),
        _claim(3, "Tom Lee and Kim Park met in March.", "Lee met Park in March, Ruiz said."),
    ]
    merged, moved = merge_duplicates(claims, shared_embedder().embed)
    assert [c.statement for c in merged] == [
        "Tom Lee met Mayor Kim Park in March.", "The city will build 40 new schools by 2030."
    ]
    assert [c.id for c in merged] == ["c1", "c2"] and moved == {"c1": "c1", "c2": "c2", "c3": "c1"}
    assert [s.text for s in merged[0].spans] == [claims[0].spans[0].text, claims[2].spans[0].text]
    assert merged[0].checkworthiness == claims[2].checkworthiness  # the higher of the two
    assert all(TEXT[s.start : s.end] == s.text for c in merged for s in c.spans)


@pytest.mark.parametrize(
    "other",
    [
        "Tom Lee met Mayor Kim Park in March.",  # another proposition
        "The city will build 4 new schools by 2030.",  # another number: 0.92 alike to MiniLM
        "The city will not build 40 new schools by 2030.",  # its negation
    ],
)
def test_different_propositions_stay_apart(other: str) -> None:
    sentence = "The city will build 40 new schools by 2030, the council announced."
    claims = [_claim(1, "The city will build 40 new schools by 2030.", sentence), _claim(2, other, sentence)]
    merged, _ = merge_duplicates(claims, shared_embedder().embed)
    assert len(merged) == 2


def test_a_denial_stays_linked_only_to_the_claims_it_is_about() -> None:
    claims = [
        _claim(1, "Tom Lee met Mayor Kim Park in March.", "Lee met Park in March, Ruiz said."),
        _claim(
            2, "The city will build 40 new schools by 2030.",
            "The city will build 40 new schools by 2030, the council announced.", "the council",
        ),
    ]
    denial = Denial(
        id="d1", speaker="Kim Park", disputes="that they met in March", kind=DenialKind.contradiction,
        claim_ids=["c1", "c2"], spans=[_span("I have met Tom Lee only once, years ago")],
    )
    kept, warnings = unlink_unrelated([denial], claims, shared_embedder().embed)
    assert kept[0].claim_ids == ["c1"]
    assert warnings == ["denials: d1 by Kim Park unlinked from c2: not about it"]


@pytest.mark.parametrize(
    ("statement", "article", "expected"),
    [
        (
            "The Tesla CEO had communicated with Putin.",
            "Now that Tesla/SpaceX CEO Elon Musk has gone public, Bremmer wrote.",
            "Elon Musk had communicated with Putin.",
        ),
        (
            "The Twitter founder left.",
            "Twitter founder Jack Dorsey spoke. Twitter co-founder Biz Stone did not.",
            "Jack Dorsey left.",
        ),
        # Two people introduced with the role: which one is meant is not for code to guess.
        ("The Acme CEO resigned.", "Acme CEO Ann Lee and, later, Acme CEO Bo Chan spoke.", "The Acme CEO resigned."),
        # Nobody introduced: the description stays.
        ("The Tesla CEO had met Putin.", "Musk met Putin, the report said.", "The Tesla CEO had met Putin."),
    ],
)
def test_a_role_description_becomes_the_name_the_article_gives_it(statement: str, article: str, expected: str) -> None:
    assert resolve_descriptions(statement, article) == expected
