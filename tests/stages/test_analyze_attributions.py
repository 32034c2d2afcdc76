"""An article's attributions are found once, by ``windows``, and travel with its windows (issue 25):
the candidates, the denials, the given claim's credit, the stance model and the result all read
them, and none parses the article again. Every window's ``text`` is the whole article (spans index
into it), so once per window's text is once per article, however many windows it has."""

import asyncio
import sys
from collections.abc import Callable

import pytest
from recording import SEED

import pipeline.stance.checkworthy  # noqa: F401  # imported before the counter, as a run has it
from pipeline.llm.client import LLM
from pipeline.stages.analyze import analyze, analyze_without_llm
from pipeline.stages.check import check_claim
from pipeline.stages.options import AnalysisOptions
from pipeline.testing.fake_openai import FakeOpenAI
from pipeline.text import attributions
from pipeline.text.ingest import make_article
from schemas import ArticleResult

TEXT = SEED.read_text(encoding="utf-8")


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text ``find_attributions`` is asked to read, wherever a module looks it up."""
    found = attributions.find_attributions
    texts: list[str] = []

    def counted(text: str) -> tuple[object, ...]:
        texts.append(text)
        return found(text)

    for name, module in list(sys.modules.items()):
        if name.startswith("pipeline") and getattr(module, "find_attributions", None) is found:
            monkeypatch.setattr(module, "find_attributions", counted)
    return texts


def _assert_the_article_was_read_once(result: ArticleResult, parsed: list[str]) -> None:
    assert parsed.count(result.text) == 1, f"the article was read {parsed.count(result.text)} times"
    # The other texts are statements and sentences read alone (propositions, check-worthiness).
    assert all(len(text) < len(result.text) / 2 for text in parsed if text != result.text)
    assert result.attributions == list(attributions.find_attributions(result.text))


@pytest.mark.parametrize("window_chars", [12_000, 1_500], ids=["one window", "several windows"])
def test_run_without_an_llm_reads_the_article_once(parsed: list[str], window_chars: int) -> None:
    result = asyncio.run(analyze_without_llm(make_article(TEXT, str(SEED)), AnalysisOptions(window_chars=window_chars)))
    assert result.claims and result.verdicts
    assert (result.run.windows > 1) == (window_chars < len(TEXT))
    _assert_the_article_was_read_once(result, parsed)


def _with_fake_llm(work: Callable[[LLM], object]) -> object:
    async def go(llm: LLM) -> object:
        try:
            return await work(llm)  # type: ignore[misc]
        finally:
            await llm.close()

    with FakeOpenAI() as fake:
        llm = LLM(backend="openai", base_url=fake.base_url, api_key="fake", model="fake-model", max_attempts=1)
        return asyncio.run(go(llm))


def test_analyze_and_check_with_an_llm_read_the_article_once(parsed: list[str]) -> None:
    article = make_article(TEXT, str(SEED))
    analysed = _with_fake_llm(lambda llm: analyze(llm, article, AnalysisOptions(window_chars=1_500)))
    assert isinstance(analysed, ArticleResult) and analysed.run.windows > 1
    _assert_the_article_was_read_once(analysed, parsed)
    parsed.clear()
    checked = _with_fake_llm(lambda llm: check_claim(llm, article, "Elon Musk spoke with Vladimir Putin about Ukraine"))
    assert parsed.count(TEXT) == 1
    assert checked.claim.claimant != "the article"  # type: ignore[attr-defined]  # credited by the windows' attributions
