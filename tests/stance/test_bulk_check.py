"""``check --pairs`` in bulk: an article is read and embedded once for all the claims paired with it,
however far apart they are in the file, and the results keep the file's order (issue 31)."""

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.stance import embedder, verdicts
from pipeline.text.sentences import split_sentences

runner = CliRunner()
TOPICS = ("harbour", "library", "stadium", "school", "bridge", "hospital")


def _article(topic: str) -> str:
    return (
        f"The city council approved a new {topic} on Tuesday. Mayor Lena Ortiz said the {topic} would open next year. "
        f"Opponents said the {topic} was too expensive. The vote was seven to two."
    )


def test_an_article_is_embedded_once_for_all_its_claims_however_far_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Interleaved as a bulk file often is: each article's three claims five articles apart, and the
    # embedder remembering fewer texts than lie between them (as hundreds of articles overflow 4,096).
    claims = {topic: [f"The council approved a {topic}", f"The {topic} will open next year",
                      f"The {topic} costs too much"]
              for topic in TOPICS}  # fmt: skip
    rows = [
        {"id": f"{topic}-{k}", "claim": claims[topic][k], "text": _article(topic)} for k in range(3) for topic in TOPICS
    ]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")

    monkeypatch.setattr(embedder, "RECENT_TEXTS", 24)
    shared = embedder.shared_embedder()
    monkeypatch.setattr(shared, "_recent", type(shared._recent)())
    monkeypatch.setattr(verdicts, "_views", type(verdicts._views)())
    embedded: Counter[str] = Counter()
    original = embedder.Embedder._embed_new

    def counting(self: embedder.Embedder, texts: list[str]):
        embedded.update(texts)
        return original(self, texts)

    monkeypatch.setattr(embedder.Embedder, "_embed_new", counting)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["check", "--no-llm", "--pairs", str(pairs), "--out", str(out)])
    assert result.exit_code == 0, result.output

    for topic in TOPICS:
        for sentence in split_sentences(_article(topic)):
            assert embedded[sentence.text] == 1, (sentence.text, embedded[sentence.text])
        for claim in claims[topic]:
            assert embedded[claim] == 1, claim
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in written] == [r["id"] for r in rows]  # the file's order, though judged article by article
    assert all(r["verdict"] is not None for r in written)
