"""The data contract: round trips, span checks, and the exported JSON Schema kept in sync."""

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

import schemas
from schemas import (
    ArticleMeta,
    ArticleResult,
    Claim,
    ClaimKind,
    Denial,
    DenialKind,
    RunInfo,
    Span,
    Verdict,
    VerdictLabel,
)
from schemas.__main__ import EXPORTS, SCHEMA_FILE, exported
from schemas.verdicts import verdicts_response_for


def _result(text: str, claim_span: Span) -> ArticleResult:
    return ArticleResult(
        article=ArticleMeta(id="0123456789abcdef", source="x.txt"),
        text=text,
        claims=[
            Claim(
                id="c1", statement="s", claimant="A", cue="said", kind=ClaimKind.fact, checkworthiness=0.5,
                spans=[claim_span],
            )
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
    for path, model in EXPORTS.items():  # the story line's schema too
        assert path.is_file() and path.read_text(encoding="utf-8") == exported(model), (
            f"run: python -m schemas ({path.name})"
        )


def test_schemas_import_nothing_from_pipeline() -> None:
    import pathlib

    for path in pathlib.Path(schemas.__file__).parent.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "from pipeline" not in source and "import pipeline" not in source, path.name


def test_verdicts_response_has_one_field_per_claim_with_the_labels_it_can_take() -> None:
    model = verdicts_response_for(("c1", "c2"), frozenset({"c2"}))
    schema = model.model_json_schema()
    assert list(schema["properties"]) == ["c1", "c2"]
    assert schema["required"] == ["c1", "c2"]  # a constrained decoder must give both, in order
    verdict_of = {
        claim_id: schema["$defs"][ref["$ref"].rsplit("/", 1)[-1]]["properties"]["verdict"]
        for claim_id, ref in schema["properties"].items()
    }
    labels = {claim_id: v.get("enum", [v.get("const")]) for claim_id, v in verdict_of.items()}
    assert labels == {"c1": ["unverified", "supported", "refuted"], "c2": ["disputed"]}
    assert verdicts_response_for(("c1", "c2"), frozenset({"c2"})) is model  # one class, so one cached tool schema


def test_verdicts_response_rejects_missing_extra_and_impossible_verdicts() -> None:
    model = verdicts_response_for(("c1",), frozenset())
    good = {"c1": {"rationale": "Only Ruiz says so.", "verdict": "unverified", "confidence": 0.6}}
    assert model.model_validate(good).drafts()["c1"].verdict == VerdictLabel.unverified
    for bad in (
        {},
        {**good, "c2": good["c1"]},
        {"c1": {**good["c1"], "verdict": "disputed"}},  # nobody denies c1
    ):
        with pytest.raises(ValidationError):
            model.model_validate(bad)
