"""Stage 3: a verdict per claim, reasoned before it is labelled."""

import functools
from enum import StrEnum
from types import EllipsisType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from schemas.spans import Span


class VerdictLabel(StrEnum):
    supported = "supported"  # the article's own evidence backs it
    refuted = "refuted"  # the article's evidence shows it is false
    disputed = "disputed"  # a claim and a denial both stand
    unverified = "unverified"  # only attributed; no evidence either way
    not_addressed = "not_addressed"  # the article does not address the claim (a reader's claim in ``check``)


RATIONALE_CHARS = 200


class VerdictDraft(BaseModel):
    """The model weighs one claim and its linked denials; code attaches the evidence spans
    (the claim's own sentences support it, its linked denials contradict it)."""

    # Field order is generation order: the reasoning, then the label.
    # maxLength binds only servers that decode under the schema (llama.cpp): the 1.5B otherwise
    # writes 100-word rationales that cost a minute per claim. Not validated, so no re-ask elsewhere.
    rationale: str = Field(
        description="At most 15 words weighing the evidence, written before the verdict.",
        json_schema_extra={"maxLength": RATIONALE_CHARS},
    )
    verdict: VerdictLabel
    confidence: float = Field(ge=0, le=1, description="Probability that the verdict is right.")


# What a claim can be labelled follows from the denials stage. A claim someone denies is
# "disputed": a small model cannot weigh a denial against a claim (on the seed the 1.5B called
# such claims "refuted" or "supported" even when asked again), so the denial settles the label
# and the model writes the rationale and confidence. A claim nobody denies is "unverified" unless
# the article's own facts support or refute it.
WHEN_DENIED = (VerdictLabel.disputed,)
WHEN_UNDENIED = (VerdictLabel.unverified, VerdictLabel.supported, VerdictLabel.refuted)


class VerdictsResponse(BaseModel):
    """One field per claim id (``c1``, ``c2``...), each holding that claim's verdict: a server
    that constrains decoding to the tool's schema (llama.cpp does) then gives exactly one
    verdict per claim, in order, from the labels the claim can take."""

    model_config = ConfigDict(extra="forbid")

    def drafts(self) -> dict[str, VerdictDraft]:
        return {name: getattr(self, name) for name in type(self).model_fields}


class ConfidenceBasis(StrEnum):
    label_probability = "label_probability"  # the model's own probability of the label, from token logprobs
    stated = "stated"  # the number the model wrote (servers that give no token probabilities)
    stance_model = "stance_model"  # the trained stance model's calibrated probability of the label


class Verdict(BaseModel):
    claim_id: str
    verdict: VerdictLabel
    confidence: float = Field(ge=0, le=1, description="Probability that the verdict is right; see confidence_basis.")
    confidence_basis: ConfidenceBasis = ConfidenceBasis.stated
    stated_confidence: float | None = Field(default=None, ge=0, le=1, description="The confidence the model wrote.")
    rationale: str
    supporting: list[Span] = Field(default_factory=list)
    contradicting: list[Span] = Field(default_factory=list)
    probabilities: dict[str, float] | None = Field(
        default=None,
        description="The stance model's calibrated distribution: backs, debunks, reports, unrelated (sums to 1).",
    )


# No docstrings on these two: pydantic would put them in the tool schema the model reads.
class DeniedClaimVerdict(VerdictDraft):
    verdict: Literal[tuple(label.value for label in WHEN_DENIED)]  # type: ignore[valid-type]


class UndeniedClaimVerdict(VerdictDraft):
    verdict: Literal[tuple(label.value for label in WHEN_UNDENIED)]  # type: ignore[valid-type]


@functools.lru_cache(maxsize=256)  # the same few id lists recur: reuse the class, and so its tool schema
def verdicts_response_for(claim_ids: tuple[str, ...], denied: frozenset[str]) -> type[VerdictsResponse]:
    """The response model for these claims: a field per id, its verdict limited to the labels
    the claim can take given whether a denial of it was found. Fields share the two verdict
    classes, so the tool schema defines each once (it is prompt the model reads every call)."""
    fields: dict[str, tuple[type[VerdictDraft], EllipsisType]] = {
        claim_id: (DeniedClaimVerdict if claim_id in denied else UndeniedClaimVerdict, ...) for claim_id in claim_ids
    }
    return create_model("VerdictsResponse", __base__=VerdictsResponse, **fields)
