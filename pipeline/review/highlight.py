"""Article text cut at span offsets into flat, HTML-escaped segments.

Spans may overlap or cross (a claim sentence that is also evidence), so the text
is cut at every span boundary and each piece lists the spans covering it. Each
piece is escaped on its own; no markup from the article ever reaches the page.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from markupsafe import Markup, escape

from schemas import ArticleResult, DenialKind, Span


class MarkKind(StrEnum):
    claim = "claim"
    claimant = "claimant"
    cue = "cue"
    denial = "denial"
    nondenial = "nondenial"
    support = "support"
    contra = "contra"


@dataclass(frozen=True, slots=True)
class Mark:
    span_id: str  # stable within the article: "c1-s0", "d2-s0", "v-c1-sup0"
    kind: MarkKind
    claim_ids: tuple[str, ...]  # the claims this span belongs to or bears on
    label: str
    start: int
    end: int


@dataclass(slots=True)
class Segment:
    start: int
    end: int
    text: str
    marks: list[Mark] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        return sorted({m.kind.value for m in self.marks})

    @property
    def roles(self) -> list[str]:
        """``claim_id:kind`` pairs: what selecting a claim should light up here."""
        return sorted({f"{c}:{m.kind.value}" for m in self.marks for c in m.claim_ids})


def marks(result: ArticleResult) -> list[Mark]:
    found: list[Mark] = []

    def add(span: Span | None, span_id: str, kind: MarkKind, claim_ids: tuple[str, ...], label: str) -> None:
        if span is not None and span.end > span.start:
            found.append(Mark(span_id, kind, claim_ids, label, span.start, span.end))

    for claim in result.claims:
        for i, span in enumerate(claim.spans):
            add(span, f"{claim.id}-s{i}", MarkKind.claim, (claim.id,), f"claim {claim.id}")
        add(claim.claimant_span, f"{claim.id}-claimant", MarkKind.claimant, (claim.id,), f"claimant of {claim.id}")
        add(claim.cue_span, f"{claim.id}-cue", MarkKind.cue, (claim.id,), f"attribution cue of {claim.id}")
    for denial in result.denials:
        kind = MarkKind.nondenial if denial.kind is DenialKind.non_denial else MarkKind.denial
        for i, span in enumerate(denial.spans):
            add(
                span, f"{denial.id}-s{i}", kind, tuple(denial.claim_ids),
                f"{denial.kind.value} {denial.id} by {denial.speaker}",
            )
    for verdict in result.verdicts:
        for i, span in enumerate(verdict.supporting):
            add(
                span, f"v-{verdict.claim_id}-sup{i}", MarkKind.support, (verdict.claim_id,),
                f"supports {verdict.claim_id}",
            )
        for i, span in enumerate(verdict.contradicting):
            add(
                span, f"v-{verdict.claim_id}-con{i}", MarkKind.contra, (verdict.claim_id,),
                f"contradicts {verdict.claim_id}",
            )
    return found


def segments(result: ArticleResult, only: set[MarkKind] | None = None) -> list[Segment]:
    text = result.text
    chosen = [m for m in marks(result) if only is None or m.kind in only]
    cuts = sorted({0, len(text), *(m.start for m in chosen), *(m.end for m in chosen)})
    pieces: list[Segment] = []
    for lo, hi in zip(cuts, cuts[1:]):
        if hi > lo:
            covering = [m for m in chosen if m.start <= lo and hi <= m.end]
            pieces.append(Segment(lo, hi, text[lo:hi], covering))
    return pieces


def to_html(pieces: list[Segment]) -> Markup:
    out: list[str] = []
    for piece in pieces:
        body = escape(piece.text)
        if not piece.marks:
            out.append(body)
            continue
        classes = " ".join(["seg", *(f"k-{k}" for k in piece.kinds)])
        span_ids = " ".join(m.span_id for m in piece.marks)
        title = "; ".join(m.label for m in piece.marks)
        out.append(
            Markup('<mark class="{}" data-spans="{}" data-roles="{}" data-start="{}" title="{}">{}</mark>').format(
                classes, span_ids, " ".join(piece.roles), piece.start, title, body
            )
        )
    return Markup("").join(out)
