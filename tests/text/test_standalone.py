"""The standalone checker: a statement read away from its article must say who and what by itself."""

import pytest

from pipeline.text.standalone import problems, stands_alone


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        ("He hoped to change the subject.", "opens on a pronoun"),
        ("His rhetoric will hurt public faith in elections.", "opens on a pronoun"),
        ("It had done just the opposite.", "opens on a pronoun"),
        ("These are two men that are building a relationship.", "opens on a pronoun"),
        ("The rhetoric of his campaign will hurt public faith.", "'his' before anyone is named"),
        ("I wasn’t planning on writing about this.", "speaks as 'I' outside a quotation"),
        ("We need to focus all of our energy on Flint.", "speaks as 'We' outside a quotation"),
        ("You can understand that companies want to be evenhanded.", "speaks as 'You' outside a quotation"),
        ("Republicans criticized the move.", "'the move' points back at the article"),
        ("Zelenskyy condemned the proposal as anti-Ukraine.", "'the proposal' points back at the article"),
        ("Everything needed to be done to avoid that outcome.", "'that outcome' points back at the article"),
        (
            "There were three components: (1) Crimea remains Russian.",
            "'There were three components' points back at the article",
        ),
        ("Monday that it was the FBI official who first raised the idea.", "cut before its cue"),
    ],
)
def test_what_leans_on_the_article_does_not_stand_alone(statement: str, why: str) -> None:
    assert why in problems(statement)
    assert not stands_alone(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "Elon Musk spoke to Vladimir Putin about Ukraine.",
        "Clinton said her emails were secure.",  # named before the pronoun
        "It is likely that Clinton does not yet have the votes.",  # the "it" of "it is likely that"
        "The survey asks whether he or she is a U.S. citizen.",  # anyone
        "Ben Rhodes: “We continue to face the threat from North Korean provocations.”",  # a named speaker's words
        "Musk's proposal that the West recognize the annexation was condemned.",  # says what the proposal was
        "The US economy grew 3 percent.",  # "US" is no "us"
        "Trump promised tariffs on goods made by companies that move factories abroad.",  # "that" relative
        "The idea of a quid pro quo was first raised by an FBI official.",
    ],
)
def test_a_statement_that_says_who_and_what_stands_alone(statement: str) -> None:
    assert problems(statement) == []


def test_a_cleft_it_stands_alone_and_a_pointing_it_does_not() -> None:
    assert stands_alone("It was the unidentified FBI official who first raised the idea of a quid pro quo.")
    assert not stands_alone("It was a mistake, so forget about it.")
