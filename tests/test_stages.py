"""The stages are declared once (pipeline/stages/_stage.py): names, prompts and tools agree."""

from pipeline.stages import _stage, claims, denials, verify
from pipeline.text import prompts
from schemas.claims import written_claims_for
from schemas.denials import denials_response_for
from schemas.verdicts import verdicts_response_for


def test_each_stage_is_declared_once_with_its_prompt_and_its_tool() -> None:
    assert _stage.STAGES == (claims.STAGE, denials.STAGE, verify.STAGE) == ("claims", "denials", "verify")
    assert all(prompts.version(name) for name in _stage.STAGES)
    # instructor's TOOLS mode names the tool after the response model: the meter bills by it.
    tools = (written_claims_for(("c1",), ("d1",)), denials_response_for(("c1",)), verdicts_response_for(("c1",), frozenset()))
    assert _stage.STAGE_BY_TOOL == {model.__name__: name for model, name in zip(tools, _stage.STAGES, strict=True)}
