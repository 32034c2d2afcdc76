"""The desk answers only its own loopback address and port, only same-scheme same-origin posts,
and refuses huge or deeply nested bodies with 413/400 before they cost memory or a 500."""

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from review_fixtures import MUSK_PUTIN_CLAIM, build_seed_run, live_server, seed_ids

from pipeline.review.app import create_app
from pipeline.review.guard import MAX_BODY_BYTES

MUSK, _ = seed_ids()
REVIEW = f"/api/articles/{MUSK}/claims/{MUSK_PUTIN_CLAIM}/reviews"
ACCEPT = {"action": "accept", "reviewer": "Ann"}


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[str]:
    run_dir = build_seed_run(tmp_path / "run")
    with live_server(lambda port: create_app(run_dir, port=port)) as base:
        yield base


def test_a_review_from_the_desk_itself_is_saved(desk: str) -> None:
    saved = httpx.post(desk + REVIEW, json=ACCEPT, headers={"Origin": desk})
    assert saved.status_code == 201, saved.text


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost.evil.example:{port}"]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_another_host_is_refused_dns_rebinding(desk: str, host: str, method: str) -> None:
    port = desk.rsplit(":", 1)[1]
    response = httpx.request(method, desk + (REVIEW if method == "POST" else "/"),
                             json=ACCEPT if method == "POST" else None,
                             headers={"Host": host.format(port=port)})
    assert response.status_code == 421, response.text
    assert "loopback" in response.json()["error"]


@pytest.mark.parametrize("host", ["localhost:{port}", "127.0.0.1:{port}"])
def test_the_desks_own_names_are_accepted(desk: str, host: str) -> None:
    port = desk.rsplit(":", 1)[1]
    assert httpx.get(desk + "/", headers={"Host": host.format(port=port)}).status_code == 200


@pytest.mark.parametrize("origin", ["https://{netloc}", "ws://{netloc}", "null", "http://evil.example"])
def test_a_post_from_another_origin_or_scheme_is_refused(desk: str, origin: str) -> None:
    netloc = desk.removeprefix("http://")
    response = httpx.post(desk + REVIEW, json=ACCEPT, headers={"Origin": origin.format(netloc=netloc)})
    assert response.status_code == 403, response.text


def test_a_body_over_the_cap_is_413_declared_or_chunked(desk: str) -> None:
    big = b'{"action": "accept", "reviewer": "' + b"A" * (MAX_BODY_BYTES + 1) + b'"}'
    declared = httpx.post(desk + REVIEW, content=big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413, declared.text

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap must count as the body arrives
        for start in range(0, len(big), 65536):
            yield big[start:start + 65536]

    chunked = httpx.post(desk + REVIEW, content=chunks(), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413, chunked.text


def test_deeply_nested_json_is_400_not_500(desk: str) -> None:
    deep = b'{"action": "accept", "reviewer": "Ann", "note": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    response = httpx.post(desk + REVIEW, content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert "nested too deeply" in response.json()["error"]


def test_a_declared_body_over_the_cap_is_refused_before_it_is_sent(desk: str) -> None:
    # Headers only, declaring more than the cap: the desk answers 413 at once instead of holding the
    # connection open for a body it would refuse (the socket's timeout only bounds a failure).
    host, port = desk.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            f"POST {REVIEW} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode()
        )
        head = conn.recv(65536)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
