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


def test_with_its_article_a_capitalised_opening_word_names_no_one() -> None:
    article = (
        "Susana Martinez did not speak. Instead she passed the microphone to a delegate. "
        "News outlets undercount Donald Trump's crowds."
    )
    # Read alone, any capitalised word might be a name; with the article, only a person it names is.
    assert stands_alone("Instead she passed the microphone to a delegate.")
    assert "'she' before anyone is named" in problems("Instead she passed the microphone to a delegate.", article)
    assert "'his' before anyone is named" in problems("News outlets undercount his supporters.", article)
    assert problems("Susana Martinez said she passed the microphone.", article) == []
    # "Mr. Bush" names a person even where the article's Bushes share the word.
    bushes = "Jeb Bush and George W. Bush campaigned. Mr. Bush has struggled with his party's base."
    assert problems("Mr. Bush has struggled with his party's base.", bushes) == []
