"""What shapes one article's analysis, as one object: every entry point builds it from the settings."""

from dataclasses import dataclass

from pipeline.settings import Settings
from schemas.result import Verifier


@dataclass(frozen=True)
class AnalysisOptions:
    max_claims: int = 10  # candidates the claims call writes per context window
    window_chars: int = 12_000  # article characters per context window
    verifier: Verifier = "trained"  # who gives verdicts: the trained stance model, or the LLM's verify call

    @classmethod
    def from_settings(cls, settings: Settings, backend: str | None = None) -> "AnalysisOptions":
        """``backend``: the open LLM's (``auto`` picks the verifier by it); None for the settings'."""
        return cls(
            max_claims=settings.max_claims,
            window_chars=settings.window_chars,
            verifier=settings.resolved_verifier(backend),
        )
