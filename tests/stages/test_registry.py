"""The stages are declared once, each next to its function (``STAGE = Stage(...)``), and ordered in
pipeline/stages/registry.py: names, prompts, tools, the budget and the README agree with it; a stage
declared outside the package runs end to end when added to a pipeline's tuple."""

import asyncio
import re

import pytest
from pydantic import BaseModel
from recording import ROOT

from pipeline.llm.client import LLM
from pipeline.stages import candidates, claims, denials, propositions, registry, verify
from pipeline.stages._stage import Analysis, Stage, StageOutput, check_order, messages, response_class
from pipeline.stages.analyze import analyze
from pipeline.stages.check import check_claim
from pipeline.stages.options import AnalysisOptions
from pipeline.testing.fake_openai import FakeOpenAI
from pipeline.text import prompts
from pipeline.text.ingest import make_article
from schemas.claims import written_claims_for
from schemas.denials import denials_response_for
from schemas.verdicts import verdicts_response_for

SEED = (ROOT / "seeds" / "musk-putin-bremmer.txt").read_text(encoding="utf-8")


def test_each_stage_is_declared_once_with_its_prompt_and_its_tool() -> None:
    assert registry.STAGES == (
        candidates.STAGE, claims.STAGE, propositions.STAGE, candidates.DENIALS_BY_RULE, denials.STAGE, verify.STAGE
    )
    names = ("candidates", "claims", "propositions", "denials_by_rule", "denials", "verify")
    assert tuple(s.name for s in registry.STAGES) == names
    assert registry.LLM_STAGES == (claims.STAGE, denials.STAGE, verify.STAGE)
    assert all(prompts.version(s.prompt) for s in registry.LLM_STAGES)
    # Stages of code: no prompt, no tool, no call.
    assert all(s.is_code and not s.prompt and not s.tool for s in (candidates.STAGE, propositions.STAGE))
    # instructor's TOOLS mode names the tool after the response model: the meter bills by it.
    tools = (
        written_claims_for(("c1",), ("d1",)), denials_response_for(("c1",)), verdicts_response_for(("c1",), frozenset())
    )
    by_tool = {model.__name__: s.name for model, s in zip(tools, registry.LLM_STAGES, strict=True)}
    assert registry.STAGE_BY_TOOL == by_tool


def test_the_order_is_data_and_the_calls_per_article_follow_from_it() -> None:
    assert registry.ANALYZE == (candidates.STAGE, claims.STAGE, propositions.STAGE, verify.STAGE)
    assert registry.CHECK == (candidates.DENIALS_BY_RULE, denials.STAGE, verify.STAGE)
    assert registry.for_verifier(registry.ANALYZE, "trained") == (candidates.STAGE, claims.STAGE, propositions.STAGE)
    # --no-llm: the same stages, the LLM's left out.
    assert registry.without_llm(registry.ANALYZE) == (candidates.STAGE, propositions.STAGE)
    assert registry.calls_per_window("trained") == 1 and registry.calls_per_window("llm") == 2
    with pytest.raises(ValueError, match="'verify' reads \\['claims', 'denials'\\]"):
        check_order((verify.STAGE, claims.STAGE))
    with pytest.raises(ValueError, match="'claims' reads \\['candidates', 'claims', 'denials'\\]"):
        check_order((claims.STAGE, candidates.STAGE))
    with pytest.raises(ValueError, match="not fields of the analysis"):
        Stage("bad", response=_ToyNote, run=_toy_run, writes=("notes",))


def test_the_readme_lists_the_stages_as_declared() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"<!-- stages: [^>]*-->\n(.*?)\n<!-- /stages -->", readme, re.DOTALL)
    assert listed is not None, "README.md has no <!-- stages --> table"
    assert listed.group(1) == registry.table(), (
        "paste `python -m pipeline.stages.registry` between the README's stages markers"
    )


# A toy stage, declared here and nowhere in the package: one more call per window after the
# built-in ones, reading the claims they wrote.
class _ToyNote(BaseModel):
    note: str


def _toy_notes() -> type[_ToyNote]:  # a factory, as the claims stage's written_claims_for(ids)
    return _ToyNote


async def _toy_run(llm: LLM, analysis: Analysis) -> StageOutput[None]:
    task = "Note one thing about these claims:\n" + "\n".join(f"{c.id}: {c.statement}" for c in analysis.claims)
    reply = await llm.ask(TOY.name, messages(analysis.window, task), _toy_notes(), analysis.window.context())
    return StageOutput(
        None, reply.usage, [*reply.warnings, f"toy: {len(analysis.claims)} claim(s) noted: {reply.value.note[:20]}"]
    )


TOY = Stage("toy", response=_toy_notes, run=_toy_run, reads=("window", "claims"))


def test_a_stage_declared_outside_the_package_runs_end_to_end_in_analyze_and_check() -> None:
    assert TOY.tool == "_ToyNote" == response_class(_ToyNote).__name__
    article = make_article(SEED, "seed.txt")

    async def go(llm: LLM) -> tuple[object, object]:
        analysed = await analyze(llm, article, AnalysisOptions(verifier="llm"), stages=(*registry.ANALYZE, TOY))
        checked = await check_claim(llm, article, "Elon Musk spoke with Vladimir Putin",
                                    AnalysisOptions(verifier="trained"),
                                    stages=(*registry.CHECK, TOY))  # fmt: skip
        await llm.close()
        return analysed, checked

    with FakeOpenAI() as fake:
        llm = LLM(backend="openai", base_url=fake.base_url, api_key="fake", model="fake-model", max_attempts=1)
        analysed, checked = asyncio.run(go(llm))
    for result in (analysed, checked):
        usage = result.run.usage  # type: ignore[attr-defined]
        assert list(usage) == ["claims", "denials", "verify", "toy"]  # the built-in stages first, always listed
        assert usage["toy"].calls == 1 and usage["toy"].prompt_tokens > 0
        assert any(w.startswith("toy: ") and "claim(s) noted: Only the article" in w for w in result.warnings)  # type: ignore[attr-defined]
    assert [usage.calls for usage in analysed.run.usage.values()] == [1, 0, 1, 1]  # type: ignore[attr-defined]
    assert [usage.calls for usage in checked.run.usage.values()] == [0, 1, 0, 1]  # type: ignore[attr-defined]  # trained: no verify call
    assert "toy: 1 claim(s)" in " ".join(checked.warnings)  # type: ignore[attr-defined]  # the given claim


def test_the_embedded_model_is_asked_only_what_it_answers_better_than_code() -> None:
    """docs/model-questions.md: on labelled questions the 1.5B beat code on none, so ``run`` asks it
    nothing; a compatible or hosted server still writes the claims call."""
    assert registry.for_backend(registry.ANALYZE, "embedded") == (candidates.STAGE, propositions.STAGE, verify.STAGE)
    assert registry.for_backend(registry.ANALYZE, "openai") == registry.ANALYZE
    assert not registry.asks_model("trained", "embedded") and registry.asks_model("trained", "openai")
    assert registry.asks_model("llm", "embedded")  # the LLM verifier, asked for by name
    assert registry.calls_per_window("trained", backend="embedded") == 0
    assert registry.calls_per_window("trained", backend="openai") == 1
    # check: the denials call is not asked of the embedded model either (it linked worse than code)
    assert registry.for_backend(registry.CHECK, "embedded") == (candidates.DENIALS_BY_RULE, verify.STAGE)
    assert registry.for_backend(registry.CHECK, "openai") == registry.CHECK
