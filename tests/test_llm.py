"""Salvaging model output after re-asks: whole items survive, broken ones do not."""

import jiter
import pytest

from pipeline.llm import _valid_items
from schemas import ClaimsResponse

GOOD = '{"statement": "A", "claimant": "B", "via": [], "cue": "said", "sentences": [2], "kind": "fact", "checkworthiness": 0.5}'


def test_output_cut_off_mid_item_keeps_the_complete_items() -> None:
    raw = '{"claims": [' + GOOD + ', {"statement": "C", "claimant": "D", "cue": "sa'
    kept = _valid_items(ClaimsResponse, jiter.from_json(raw.encode(), partial_mode="trailing-strings"))
    assert [c.statement for c in kept.claims] == ["A"]


@pytest.mark.parametrize("raw", ['{}', '{"claims": [{"statement": "only"}]}', '[]'])
def test_nothing_valid_is_an_error_not_an_empty_answer(raw: str) -> None:
    with pytest.raises(ValueError):
        _valid_items(ClaimsResponse, jiter.from_json(raw.encode()))
