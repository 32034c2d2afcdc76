"""What code proposes from an article's window before any wording: candidate claims and denials."""

from dataclasses import dataclass

from schemas import Span


@dataclass(frozen=True)
class Candidate:
    """A proposition the article states or reports, as code found it."""

    content: Span  # what is claimed: the attribution's content, or the whole own-voice sentence
    sentences: tuple[int, ...]  # the window's numbers of the sentences holding it
    claimant: str  # "the article" for its own voice
    via: tuple[str, ...]
    cue: str  # the attributing words, "none" for the article's own voice
    claimant_span: Span | None
    cue_span: Span | None
    checkworthiness: float


@dataclass(frozen=True)
class DenialCandidate:
    speaker: str
    cue: Span
    sentence: int
    span: Span  # the sentence that carries the denial
