"""Cassettes: every test that talks to a model replays a real recording of the embedded model.

Replay (the default, and CI): record mode ``none``, so a request that is not in the
cassette fails the test instead of calling out. Requests match on method, path and
JSON body, so a changed prompt or schema fails loudly rather than replaying a stale answer.

Record: ``pytest --record-mode=rewrite -m cassette`` starts the embedded model
(FACTCHECK_RECORD_MODEL, default the 1.5B) and records each test's traffic anew.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from recording import (
    CASSETTES,
    RECORD_MODEL,
    REPLAY_URL,
    SEEDS,
    TESTS,
    json_body,
    scrub_request,
    scrub_response,
)

from pipeline.llm.backends.embedded import embedded_llm
from pipeline.llm.backends.openai import openai_llm
from pipeline.llm.client import LLM
from pipeline.llm.embedded import WEIGHTS, EmbeddedServer, ensure_weights
from pipeline.settings import Settings


def pytest_recording_configure(config: pytest.Config, vcr: object) -> None:
    vcr.register_matcher("json_body", json_body)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, object]:
    return {
        "match_on": ["method", "path", "json_body"],
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    # One folder per test module, one cassette per test, mirroring the tests:
    # tests/stages/test_check.py's cassettes are cassettes/stages/check/<test>.yaml
    module = Path(request.path).relative_to(TESTS)
    return str(CASSETTES / module.parent / module.stem.removeprefix("test_"))


def is_recording(config: pytest.Config) -> bool:
    return config.getoption("--record-mode") not in (None, "none")


@pytest.fixture(scope="session")
def _recording_server(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if not is_recording(request.config):
        yield None
        return
    settings = Settings()
    path = ensure_weights(WEIGHTS[RECORD_MODEL], settings.cache_dir / "models")
    with EmbeddedServer(path, n_ctx=settings.context_tokens) as server:
        yield server.base_url


@pytest.fixture
def llm(_recording_server: str | None) -> LLM:
    """The embedded model as the pipeline sees it: live while recording, replayed otherwise."""
    settings = Settings(max_attempts=1)
    return embedded_llm(settings, _recording_server or REPLAY_URL, RECORD_MODEL)


@pytest.fixture(scope="session")
def seed_text() -> str:
    return (SEEDS / "musk-putin-bremmer.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def module_llm(_recording_server: str | None) -> LLM:
    settings = Settings(max_attempts=1)
    return embedded_llm(settings, _recording_server or REPLAY_URL, RECORD_MODEL)


@pytest.fixture(scope="module")
def compatible_llm(_recording_server: str | None) -> LLM:
    """The same model behind ``--backend openai --base-url``: an OpenAI-compatible server, asked as a
    hosted model is (tool calls, the writing claims call); live while recording, replayed otherwise."""
    settings = Settings(max_attempts=1, base_url=_recording_server or REPLAY_URL, model=RECORD_MODEL)
    return openai_llm(settings)
