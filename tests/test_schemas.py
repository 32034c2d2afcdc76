"""The data contract: round trips, span checks, and the exported JSON Schema kept in sync."""

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

import schemas
from schemas.__main__ import SCHEMA_FILE, exported
from schemas import ArticleMeta, ArticleResult, Claim, ClaimKind, Denial, DenialKind, RunInfo, Span, Verdict, VerdictLabel


def _result(text: str, claim_span: Span) -> ArticleResult:
    return ArticleResult(
        article=ArticleMeta(id="0123456789abcdef", source="x.txt"),
        text=text,
        claims=[
            Claim(id="c1", statement="s", claimant="A", cue="said", kind=ClaimKind.fact, checkworthiness=0.5, spans=[claim_span])
        ],
        denials=[Denial(id="d1", speaker="B", disputes="s", kind=DenialKind.non_denial, spans=[claim_span])],
        verdicts=[Verdict(claim_id="c1", verdict=VerdictLabel.unverified, confidence=0.5, rationale="r")],
        run=RunInfo(backend="b", model="m", prompt_versions={}, started_at=datetime.now(UTC), seconds=1.0),
    )


def test_round_trip() -> None:
    text = "A said it rained."
    result = _result(text, Span(start=0, end=6, text="A said"))
    again = ArticleResult.model_validate_json(result.model_dump_json())
    assert again == result
    assert again.denials[0].is_denial is False  # a non-denial never counts


def test_a_span_that_is_not_the_text_is_rejected() -> None:
    with pytest.raises(ValidationError, match="is not the article text"):
        _result("A said it rained.", Span(start=2, end=8, text="A said"))


def test_span_length_must_match() -> None:
    with pytest.raises(ValidationError):
        Span(start=0, end=3, text="A said")


def test_denial_of_unknown_claim_is_rejected() -> None:
    result = _result("A said it rained.", Span(start=0, end=6, text="A said"))
    data = json.loads(result.model_dump_json())
    data["denials"][0]["claim_ids"] = ["c9"]
    with pytest.raises(ValidationError, match="unknown claims"):
        ArticleResult.model_validate(data)


def test_exported_json_schema_is_in_sync() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == exported(), "run: python -m schemas"


def test_schemas_import_nothing_from_pipeline() -> None:
    import pathlib

    for path in pathlib.Path(schemas.__file__).parent.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "from pipeline" not in source and "import pipeline" not in source, path.name
