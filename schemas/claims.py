"""Check-worthy claims, who asserts them, and the claims call's answer."""

import functools
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, create_model

from schemas.spans import Span


class ClaimKind(StrEnum):
    fact = "fact"
    quote = "quote"
    opinion = "opinion"
    prediction = "prediction"


class Claim(BaseModel):
    id: str = Field(pattern=r"^c\d+$")
    statement: str
    claimant: str
    via: list[str] = Field(default_factory=list)
    cue: str
    kind: ClaimKind
    checkworthiness: float = Field(ge=0, le=1)
    spans: list[Span] = Field(min_length=1, description="Where the article states the claim.")
    claimant_span: Span | None = Field(default=None, description="The claimant's name in the article, when found.")
    cue_span: Span | None = Field(default=None, description="The attribution cue in the article, when found.")
    standalone: bool | None = Field(
        default=None,
        description="Whether the statement stands alone (no pronoun, first person or reference only the article "
        "explains); None in results written before the check.",
    )

    @property
    def attribution(self) -> list[str]:
        """The chain from the outermost source inward, e.g. [Bremmer, Musk]."""
        return [self.claimant, *self.via]


# The one claims call: code proposes the candidates (numbered c1, c2 … and d1, d2 … in the
# prompt); the model writes the standalone statement of each candidate that needs one (code
# writes the rest), drops what is not a check-worthy claim, and links each candidate denial to
# the claims it disputes. The ids are
# the JSON object's fixed keys, so a server that decodes under the schema (llama.cpp) writes
# exactly one entry per candidate and stops: free JSON looped to the token cap.
class WrittenClaims(BaseModel):
    """Statements for the candidate claims that need rewriting, the ids to drop, and what each
    candidate denial disputes.

    ``statements`` holds one standalone sentence per claim id asked: full names, no pronouns, no
    attribution words."""

    # Its fields are made per call by ``written_claims_for``, in the order the model writes them:
    # statements (when any is asked), drop, disputes (when there are denials). None is declared
    # here: a base class's fields would come first.


@functools.lru_cache(maxsize=256)  # the same few id lists recur: reuse the class, and so its schema
def written_claims_for(
    claim_ids: tuple[str, ...], denial_ids: tuple[str, ...], written_ids: tuple[str, ...] | None = None
) -> type[WrittenClaims]:
    """The response model for these candidates: a statement for each of ``written_ids`` (default
    every claim id), drops and links by ids from ``claim_ids``."""
    written_ids = claim_ids if written_ids is None else written_ids
    ids = Literal[claim_ids]  # type: ignore[valid-type]
    fields: dict[str, object] = {}
    if written_ids:
        # No maxLength: llama.cpp turns it into a grammar rule per character that doubled the
        # call's time on the seed (105 s against 43 s); the call's max_tokens bounds a loop instead.
        fields["statements"] = (create_model("Statements", **{i: (str, ...) for i in written_ids}), ...)  # type: ignore[call-overload]
    # Examples empty: a model shown ["c1"] as the shape of the answer drops c1 (the 1.5B did).
    fields["drop"] = (
        list[ids], Field(description="Ids of candidates that are not check-worthy claims.", examples=[[]])
    )
    if denial_ids:
        linked = (list[ids], Field(description="Ids of the claims this denial disputes; [] for none.", examples=[[]]))
        fields["disputes"] = (create_model("Disputes", **{i: linked for i in denial_ids}), ...)  # type: ignore[call-overload]
    return create_model("WrittenClaims", __base__=WrittenClaims, **fields)  # type: ignore[call-overload, no-any-return]
