"""Evidence spans: character offsets into an article's text, computed by code."""

from enum import StrEnum

from pydantic import BaseModel, Field, model_validator


class MatchKind(StrEnum):
    """How a span was located in the article."""

    sentence = "sentence"  # the model cited a sentence number
    exact = "exact"  # a quote found verbatim
    normalized = "normalized"  # found after folding quotes, dashes and whitespace
    fuzzy = "fuzzy"  # best approximate match; see ``score``


class Span(BaseModel):
    """``text == article_text[start:end]`` always holds; ArticleResult checks it."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    match: MatchKind = MatchKind.exact
    score: float = Field(
        default=1.0, ge=0.0, le=1.0, description="similarity of the quote to the span (1 unless fuzzy)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> "Span":
        if self.end < self.start or self.end - self.start != len(self.text):
            raise ValueError(f"span [{self.start}, {self.end}) does not match its text length {len(self.text)}")
        return self
