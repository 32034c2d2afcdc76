"""Validation of what a model points at: sentence numbers and claim ids.

The numbered sentences and known claim ids reach a validator through
instructor's ``validation_context``; an out-of-range reference makes instructor
re-ask the model with the error message.
"""

from pydantic import ValidationInfo


def check_sentences(numbers: list[int], info: ValidationInfo) -> list[int]:
    shown = (info.context or {}).get("sentence_numbers")
    if shown is None:
        return numbers
    bad = [n for n in numbers if n not in shown]
    if bad:
        raise ValueError(f"sentence numbers {bad} do not exist; the article has sentences {min(shown)} to {max(shown)}")
    return numbers


def check_claim_ids(ids: list[str], info: ValidationInfo) -> list[str]:
    known = (info.context or {}).get("claim_ids")
    if known is None:
        return ids
    bad = [i for i in ids if i not in known]
    if bad:
        raise ValueError(f"claim ids {bad} do not exist; known claim ids are {sorted(known)}")
    return ids


def check_quote(quote: str, info: ValidationInfo) -> str:
    """The quote must be findable in the article; the pipeline passes its aligner as context."""
    aligner = (info.context or {}).get("align_quote")
    if aligner is not None and aligner(quote) is None:
        raise ValueError(f"quote {quote[:80]!r} is not in the article; copy the words exactly as written")
    return quote
