"""The data contract of factcheck: every model a stage returns or a run writes.

Imports nothing from ``pipeline``; the pipeline, the review desk and the
evaluation all depend on this package, never the other way round.
"""

from schemas.spans import MatchKind, Span
from schemas.attribution import Attribution
from schemas.claims import Claim, ClaimKind, WrittenClaims
from schemas.denials import Denial, DenialDraft, DenialKind, DenialsResponse
from schemas.verdicts import Verdict, VerdictDraft, VerdictLabel, VerdictsResponse
from schemas.usage import Usage
from schemas.result import ArticleMeta, ArticleResult, RunInfo

__all__ = [
    "ArticleMeta",
    "ArticleResult",
    "Attribution",
    "Claim",
    "ClaimKind",
    "Denial",
    "DenialDraft",
    "DenialKind",
    "DenialsResponse",
    "MatchKind",
    "RunInfo",
    "Span",
    "Usage",
    "Verdict",
    "VerdictDraft",
    "VerdictLabel",
    "VerdictsResponse",
    "WrittenClaims",
]
