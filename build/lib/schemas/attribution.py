"""Reported speech found by code: who (source) said (cue) what (content), as article spans."""

from pydantic import BaseModel, Field

from schemas.spans import Span


class Attribution(BaseModel):
    """One attribution instance. Spans are computed by code from the article text, so they are
    exact (``MatchKind.exact``); the ArticleResult span check covers them like any other span."""

    id: str = Field(description='Article-wide id in text order: "a1", "a2", ...')
    source: Span | None = Field(
        default=None, description="Who speaks: a name, title + name, pronoun or group; None when unstated (passive)."
    )
    cue: Span = Field(description='The reporting expression: "said", "has denied", "according to".')
    content: Span | None = Field(default=None, description="What is attributed: the quote or the reported clause.")

    def spans(self) -> list[Span]:
        return [s for s in (self.source, self.cue, self.content) if s is not None]
