"""One claim per proposition, and each denial linked to the claims it disputes: code's last stage
of a window, after the candidates (and the claims call, where there is one).

- claims whose statements mean the same (MiniLM cosine, the same numbers, the same negation) are
  merged, keeping every span, in the words and credit of the one the article states first;
- a denial's links follow the claims they were made to; one with none is linked by code, to the
  claims that name whom it names and are closest in meaning, never its speaker's own;
- a denial stays linked only to claims it is about (it shares a name or enough meaning with them).
"""

import re
import time
from collections.abc import Callable, Sequence

import numpy as np

from pipeline.stages._stage import Analysis, Stage, StageOutput, in_worker
from pipeline.stages.wording import same_person
from pipeline.text.attributions import names_in
from pipeline.text.lexicon import FUNCTION_WORDS, NEGATION
from schemas import Claim, Denial, Usage

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> L2-normalised rows

SAME_PROPOSITION = 0.75  # cosine above which two statements of one article are one claim
ABOUT_THE_CLAIM = 0.35  # cosine below which a denial sharing no name with a claim is not about it
LINK_COSINE = 0.35  # the least cosine at which code links a denial to a claim
# MiniLM does not tell "Musk spoke with Putin" from "Musk worried about Putin" apart reliably:
# every claim within this margin of the best is linked.
LINK_MARGIN = 0.1

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _may_be_one(a: str, b: str) -> bool:
    """Embeddings hardly see numbers or a "not": "40 schools" and "4 schools" are 0.92 alike. Nor a
    claim about another one: "The outcome that the city hired 40 teachers hurt schools" holds "The
    city hired 40 teachers" and more."""
    shorter, longer = sorted((a.rstrip(".").lower(), b.rstrip(".").lower()), key=len)
    if shorter in longer and len(longer.split()) - len(shorter.split()) >= 4:
        return False
    return set(_NUMBER.findall(a)) == set(_NUMBER.findall(b)) and bool(NEGATION.search(a)) == bool(NEGATION.search(b))


def merge_duplicates(claims: Sequence[Claim], embed: Embed) -> tuple[list[Claim], dict[str, str]]:
    """Claims of one article that state the same proposition, as one claim holding every span, in
    the place of the most check-worthy one and in the words and credit of the one the article states
    first; ids are renumbered c1… and the map says where each went."""
    if len(claims) < 2:
        return [c.model_copy(update={"id": f"c{i + 1}"}) for i, c in enumerate(claims)], {
            c.id: f"c{i + 1}" for i, c in enumerate(claims)
        }
    vectors = embed([c.statement for c in claims])
    similar = vectors @ vectors.T
    kept: list[Claim] = []
    into: dict[str, int] = {}
    for i, claim in enumerate(claims):
        same = next(
            (
                into[claims[j].id]
                for j in range(i)
                if similar[i, j] >= SAME_PROPOSITION and _may_be_one(claim.statement, claims[j].statement)
            ),
            None,
        )
        if same is None:
            into[claim.id] = len(kept)
            kept.append(claim)
            continue
        into[claim.id] = same
        first, other = kept[same], claim
        if min(s.start for s in other.spans) < min(s.start for s in first.spans):
            first, other = other, first  # stated as the article first states it, credited as there
        spans = sorted({(s.start, s.end): s for s in [*first.spans, *other.spans]}.values(), key=lambda s: s.start)
        via = list(first.via)
        for name in other.via:
            if not any(same_person(name, known) for known in [first.claimant, *via]):
                via.append(name)
        kept[same] = first.model_copy(
            update={
                "id": kept[same].id,
                "spans": spans,
                "via": via,
                "checkworthiness": max(first.checkworthiness, other.checkworthiness),
            }
        )
    renumbered = [c.model_copy(update={"id": f"c{i + 1}"}) for i, c in enumerate(kept)]
    return renumbered, {old: f"c{index + 1}" for old, index in into.items()}


def about(denial: Denial, claim: Claim, similarity: float) -> bool:
    """Whether a denial can be about a claim: the 1.5B links a denial to every claim in the list.
    A denial that names someone the claim names, or whose words are close enough in meaning, is
    kept; one that shares neither ("I spoke to Putin once" vs "Crimea remains Russian") is not."""
    # Names from the article's words only: the model's "disputes" text echoes whatever it linked.
    shared = names_in(claim.statement) & names_in(" ".join(s.text for s in denial.spans))
    return bool(shared) or similarity >= ABOUT_THE_CLAIM


def unlink_unrelated(
    denials: Sequence[Denial], claims: Sequence[Claim], embed: Embed
) -> tuple[list[Denial], list[str]]:
    """Denials linked only to the claims they are about, and a warning for each link removed."""
    by_id = {c.id: c for c in claims}
    linked = [(d, i) for d in denials for i in d.claim_ids if i in by_id]
    if not linked:
        return list(denials), []
    texts = [" ".join([d.disputes, *(s.text for s in d.spans)]) for d, _ in linked]
    vectors = embed([*texts, *(by_id[i].statement for _, i in linked)])
    n = len(linked)
    similarities = (vectors[:n] * vectors[n:]).sum(axis=1)
    dropped: set[tuple[str, str]] = set()
    warnings: list[str] = []
    for (denial, claim_id), similarity in zip(linked, similarities):
        if not about(denial, by_id[claim_id], float(similarity)):
            dropped.add((denial.id, claim_id))
            warnings.append(f"denials: {denial.id} by {denial.speaker} unlinked from {claim_id}: not about it")
    kept = [d.model_copy(update={"claim_ids": [i for i in d.claim_ids if (d.id, i) not in dropped]}) for d in denials]
    return kept, warnings


def linked_by_code(denials: Sequence[Denial], claims: Sequence[Claim], embed: Embed) -> list[Denial]:
    """Each denial without links, linked to the claims it is most about (MiniLM cosine of its words
    and the claim, at least ``LINK_COSINE``, within ``LINK_MARGIN`` of the best) among those that
    name whom it names besides its speaker, never the speaker's own nor one on its own sentences."""
    found: list[Denial] = []
    for denial in denials:
        if denial.claim_ids:
            found.append(denial)
            continue
        words = " ".join(s.text for s in denial.spans)
        speaker_names = names_in(denial.speaker)
        names = names_in(words) - speaker_names
        eligible = [
            c for c in claims
            if names & names_in(" ".join([c.statement, *(s.text for s in c.spans)]))
            and not speaker_names & names_in(c.claimant)
            and not any(s.start == t.start for s in c.spans for t in denial.spans)
        ]  # fmt: skip
        targets: list[str] = []
        if eligible:
            vectors = embed([words, *(c.statement for c in eligible)])
            similarity = vectors[1:] @ vectors[0]
            best = float(similarity.max())
            close = [c for c, s in zip(eligible, similarity) if s >= max(LINK_COSINE, best - LINK_MARGIN)]
            # Of those, the ones that share what happened, not only who ("spoken" and "spoke", not
            # "concerned about threats from Putin" against "I have spoken to Putin only once").
            sharing = [c for c in close if _stems(c.statement) & _stems(words)]
            targets = [c.id for c in sharing or close]
        found.append(denial.model_copy(update={"claim_ids": targets}))
    return found


def _stems(text: str) -> set[str]:
    """Content words by their first five letters ("spoken", "spoke"; "negotiated", "negotiations"), names left out."""
    names = {n.lower() for n in names_in(text)}
    words = re.findall(r"[a-z]+", text.lower())
    return {w[:5] for w in words if len(w) > 3 and w not in FUNCTION_WORDS and w not in names}


def one_per_proposition(
    claims: list[Claim], denials: list[Denial], embed: Embed
) -> tuple[list[Claim], list[Denial], list[str]]:
    """The window's claims merged where they state one proposition, and its denials linked: the links
    made so far follow their claims, a denial with none is linked by code."""
    warnings: list[str] = []
    merged, moved = merge_duplicates(claims, embed)
    warnings += [
        f"claims: {claim.statement[:60]!r} merged into {moved[claim.id]}: the same proposition"
        for claim in claims
        if moved[claim.id] != claim.id and sum(v == moved[claim.id] for v in moved.values()) > 1
    ]
    followed = [
        d.model_copy(update={"claim_ids": list(dict.fromkeys(moved[i] for i in d.claim_ids if i in moved))})
        for d in denials
    ]
    return merged, linked_by_code(followed, merged, embed), warnings


def _embed(texts: Sequence[str]) -> np.ndarray:
    from pipeline.stance.embedder import shared_embedder

    return shared_embedder().embed(texts)


async def _settle(llm: object, analysis: Analysis) -> StageOutput[tuple[list[Claim], list[Denial]]]:
    clock = time.perf_counter()
    claims, denials, warnings = await in_worker(one_per_proposition, analysis.claims, analysis.denials, _embed)
    return StageOutput((claims, denials), Usage(seconds=time.perf_counter() - clock), warnings)


STAGE = Stage(
    "propositions",
    response=None,
    run=_settle,
    reads=("claims", "denials"),
    writes=("claims", "denials"),
    calls_per_window=0,
)
