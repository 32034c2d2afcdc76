"""Cassette conventions shared by conftest and tests: matching, scrubbing, where files live."""

import json
import os
from pathlib import Path

import pytest
import vcr
from vcr.request import Request

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
SEEDS = ROOT / "seeds"
SEED = SEEDS / "musk-putin-bremmer.txt"
SAMPLES = TESTS / "eval_samples"  # small FNC-1 and PolNeAR samples the eval tests read
CASSETTES = ROOT / "cassettes"
SHARED = ROOT.parent / "shared"
RECORD_MODEL = os.environ.get("FACTCHECK_RECORD_MODEL", "qwen2.5-coder-1.5b-instruct-q4_k_m")
REPLAY_URL = "http://cassette-replay.invalid/v1"  # never resolvable: a miss cannot reach a network
_SCRUBBED_REQUEST_HEADERS = [
    "authorization", "api-key", "openai-organization", "openai-project", "cookie", "user-agent"
]
_KEPT_RESPONSE_HEADERS = {"content-type", "retry-after"}


def json_body(r1: Request, r2: Request) -> None:
    def parse(request: Request) -> object:
        body = request.body or b""
        try:
            return json.loads(body)
        except ValueError:
            return body

    assert parse(r1) == parse(r2), "request bodies differ (changed prompt, schema or settings?)"


def scrub_response(response: dict[str, object]) -> dict[str, object]:
    headers = response.get("headers", {})
    assert isinstance(headers, dict)
    response["headers"] = {k: v for k, v in headers.items() if k.lower() in _KEPT_RESPONSE_HEADERS}
    return response


def scrub_request(request: Request) -> Request:
    for name in list(request.headers):
        if name.lower().startswith("x-stainless") or name.lower() in _SCRUBBED_REQUEST_HEADERS:
            del request.headers[name]
    return request


def shared_cassette(
    config: pytest.Config, name: str, *, replay_only: bool = False
) -> "vcr.cassette.CassetteContextDecorator":
    """A cassette for a module-scoped fixture, so several tests check one recorded run.
    ``replay_only`` for a test that reuses another test's recording."""
    mode = "none" if replay_only else config.getoption("--record-mode") or "none"
    if mode == "rewrite":  # pytest-recording's mode; plain vcrpy: start the file afresh
        (CASSETTES / name).unlink(missing_ok=True)
        mode = "once"
    recorder = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode=mode,
        match_on=["method", "path", "json_body"],
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
    )
    recorder.register_matcher("json_body", json_body)
    return recorder.use_cassette(name)
