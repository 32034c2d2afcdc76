"""One usage type: added with +, written one way, and results written with usage as a list still read."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas import ArticleResult, RunInfo, Usage
from schemas.check import CheckResult

# A result file as factcheck wrote it before usage was keyed by stage (``run.usage`` a list of
# ``{"stage": ..., ...}``), written by that version's schemas.
OLD_RESULT = Path(__file__).with_name("result_with_usage_as_a_list.json")


def test_usages_add_field_by_field() -> None:
    one = Usage(calls=1, cache_hits=2, failed_attempts=3, prompt_tokens=4, completion_tokens=5, cached_tokens=6,
                cost_usd=0.25, seconds=1.0004)  # fmt: skip
    two = Usage(calls=10, cache_hits=20, failed_attempts=30, prompt_tokens=40, completion_tokens=50, cached_tokens=60,
                cost_usd=0.5, seconds=2.0)  # fmt: skip
    assert one + two == Usage(calls=11, cache_hits=22, failed_attempts=33, prompt_tokens=44, completion_tokens=55,
                              cached_tokens=66, cost_usd=0.75, seconds=3.0)  # fmt: skip
    assert Usage.total([one, two]) == one + two and Usage.total([]) == Usage()
    assert (one + two).tokens == 44 + 55


def test_usage_is_written_to_the_micro_dollar_and_the_millisecond() -> None:
    usage = Usage(calls=1, cost_usd=0.1 + 0.2, seconds=1.23456)
    assert usage.model_dump(mode="json") == {
        "calls": 1, "cache_hits": 0, "failed_attempts": 0, "prompt_tokens": 0, "completion_tokens": 0,
        "cached_tokens": 0, "cost_usd": 0.3, "seconds": 1.235,
    }  # fmt: skip


def test_a_result_written_with_usage_as_a_list_still_loads_keyed_by_stage() -> None:
    data = OLD_RESULT.read_text(encoding="utf-8")
    assert isinstance(json.loads(data)["run"]["usage"], list)
    result = ArticleResult.model_validate_json(data)
    assert list(result.run.usage) == ["claims", "denials", "verify"]
    assert result.run.usage["claims"] == Usage(calls=2, prompt_tokens=1500, completion_tokens=300, cached_tokens=1024,
                                               seconds=2.125)  # fmt: skip
    assert result.run.usage["verify"].calls == 1 and result.run.usage["denials"] == Usage()
    # Written again, it is keyed by stage, and reads back the same.
    again = json.loads(result.model_dump_json())
    assert again["run"]["usage"]["claims"]["calls"] == 2
    assert ArticleResult.model_validate(again) == result


def test_a_check_result_written_with_usage_as_a_list_still_loads() -> None:
    old = json.loads(OLD_RESULT.read_text(encoding="utf-8"))
    checked = {
        "given_claim": "The bridge will reopen in May.", "article": old["article"], "text": old["text"],
        "origin": "article", "match_score": 1.0, "claim": old["claims"][0], "verdict": old["verdicts"][0],
        "run": old["run"],
    }  # fmt: skip
    assert CheckResult.model_validate(checked).run.usage["verify"].prompt_tokens == 900


@pytest.mark.parametrize(
    "usage", [[{"calls": 1}], [{"stage": 3, "calls": 1}], ["claims"], {"claims": {"calls": "many"}}]
)
def test_unreadable_usage_is_a_validation_error(usage: object) -> None:
    run = json.loads(OLD_RESULT.read_text(encoding="utf-8"))["run"]
    with pytest.raises(ValidationError):
        RunInfo.model_validate({**run, "usage": usage})
