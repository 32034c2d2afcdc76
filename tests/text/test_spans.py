"""Span alignment: every span is the article text at its offsets, and quotes are never moved silently."""

import pytest

from pipeline.text.document import windows
from pipeline.text.sentences import split_sentences
from pipeline.text.spans import align_quote, sentence_span
from schemas import MatchKind


def test_sentences_cover_the_text_at_their_offsets(seed_text: str) -> None:
    sentences = split_sentences(seed_text)
    assert len(sentences) > 20
    for s in sentences:
        assert seed_text[s.start : s.end] == s.text
    # Abbreviations do not end a sentence; a quote's closing mark stays with it.
    assert any("the U.S. and its allies." in s.text for s in sentences)
    assert any(s.text.startswith("“I have spoken to Putin only once") for s in sentences)


def test_exact_quote(seed_text: str) -> None:
    span = align_quote(seed_text, "I have spoken to Putin only once and that was about 18 months ago.")
    assert span is not None and span.match is MatchKind.exact
    assert seed_text[span.start : span.end] == span.text


def test_normalized_quote_folds_curly_quotes_dashes_and_spaces(seed_text: str) -> None:
    span = align_quote(seed_text, "goals he would accomplish \"no matter what\"-the   alternative")
    assert span is not None and span.match is MatchKind.normalized
    assert span.text == "goals he would accomplish “no matter what”—the alternative"
    assert seed_text[span.start : span.end] == span.text


def test_fuzzy_quote_keeps_its_score(seed_text: str) -> None:
    span = align_quote(seed_text, "I have spoken to Putin only once, and that was around 18 months ago")
    assert span is not None and span.match is MatchKind.fuzzy
    assert 0.85 <= span.score < 1
    assert seed_text[span.start : span.end] == span.text
    assert span.text.startswith("I have spoken to Putin only once")


def test_unalignable_quote_is_none(seed_text: str) -> None:
    assert align_quote(seed_text, "Musk said he met Putin in Moscow last Tuesday to sign a treaty") is None
    assert align_quote(seed_text, "  ") is None
    assert align_quote(seed_text, "\u00a0\u00a0") is None  # no-break spaces fold to nothing


def test_quote_prefers_the_cited_window() -> None:
    text = "Lee said no. Later, Ruiz said no."
    second = align_quote(text, "said no", (13, len(text)))
    assert second is not None and second.start == text.rindex("said no")


@pytest.mark.parametrize("max_chars", [300, 1000, 5000])
def test_windows_overlap_and_drop_nothing(seed_text: str, max_chars: int) -> None:
    parts = windows(seed_text, max_chars=max_chars)
    numbers = [s.number for w in parts for s in w.sentences]
    assert sorted(set(numbers)) == list(range(1, len(split_sentences(seed_text)) + 1))
    if len(parts) > 1:
        assert parts[0].sentences[-1].number >= parts[1].sentences[0].number  # overlap


def test_a_short_quote_is_never_matched_fuzzily() -> None:
    # Eight characters match too much by chance: "He spoke" would land on "have spoken".
    text = "They have spoken often about it, the report says."
    assert align_quote(text, "He spoke") is None
    assert align_quote(text, "have spoken") is not None  # exact still works for short quotes


HARBOUR = "Officials said the harbour will reopen in May. Trade will resume."


def test_sentence_span_is_the_numbered_sentence() -> None:
    text = "One is here. Two is here. Three is here. Four is here. Five is here."
    sentences = split_sentences(text)
    for number, word in enumerate(["One", "Two", "Three", "Four", "Five"], 1):
        span = sentence_span(sentences, number)
        assert (span.text, span.match) == (f"{word} is here.", MatchKind.sentence)
        assert text[span.start : span.end] == span.text


def test_normalized_matching_ignores_case_and_runs_of_whitespace_from_the_first_character() -> None:
    text = "The Mayor said:\n\n  the budget  grew by 4 percent."
    span = align_quote(text, "the mayor said: the budget grew")
    assert span is not None and span.match is MatchKind.normalized
    assert (span.start, span.text) == (0, "The Mayor said:\n\n  the budget  grew")


def test_normalized_offsets_stay_right_past_a_letter_whose_lower_case_is_two_characters() -> None:
    text = "İzmir officials said the port will reopen."  # "İ".lower() is "i" + a combining dot
    span = align_quote(text, "İzmir officials  said the port")
    assert span is not None and span.match is MatchKind.normalized
    assert span.text == "İzmir officials said the port"


def test_a_fuzzy_span_ends_on_the_quote_and_widens_only_to_whole_words() -> None:
    span = align_quote(HARBOUR, "arbor will reopen in May.")
    assert span is not None and span.match is MatchKind.fuzzy
    assert span.text == "harbour will reopen in May."  # widened back to the word's start; the period kept
    assert span.score == 0.96


def test_a_fuzzy_span_at_the_very_start_of_the_text() -> None:
    text = "Harbour will reopen in May says the mayor"  # ends in a letter: no wrap-around to it
    span = align_quote(text, "Harbor will reopen in May")
    assert span is not None and (span.start, span.text) == (0, "Harbour will reopen in May")


def test_twelve_characters_is_the_shortest_fuzzy_quote_and_its_score_has_three_decimals() -> None:
    twelve = align_quote(HARBOUR, "reopn in May")
    assert twelve is not None and twelve.match is MatchKind.fuzzy and twelve.text == "reopen in May"
    assert twelve.score == 0.917  # 91.67 / 100, rounded to three decimals
    assert align_quote(HARBOUR, "reopn in Ma") is None  # eleven: too short to trust a fuzzy match


def test_exact_and_normalized_matches_score_one_even_at_the_first_character() -> None:
    exact = align_quote(HARBOUR, "Officials said")
    assert exact is not None and (exact.start, exact.match, exact.score) == (0, MatchKind.exact, 1.0)
    folded = align_quote(HARBOUR, "officials  said")
    assert folded is not None and (folded.start, folded.match, folded.score) == (0, MatchKind.normalized, 1.0)
