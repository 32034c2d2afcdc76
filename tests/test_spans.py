"""Span alignment: every span is the article text at its offsets, and quotes are never moved silently."""

import pytest

from pipeline._sentences import split_sentences
from pipeline.document import windows
from pipeline.spans import align_quote
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
