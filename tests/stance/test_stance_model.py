"""The trained stance model: its training script, the shipped artifact against its card, the
embedding weights' pins, its export to ONNX, and its judgements on articles the tests write themselves."""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from recording import ROOT, SHARED

from pipeline.stance import embedder, model
from pipeline.stance import train as train_module
from pipeline.stance.data import DataError, EmbeddingCache, feature_rows, read_fnc, sample_bodies
from pipeline.stance.export import to_onnx
from pipeline.stance.features import DENSE_NAMES
from pipeline.stance.model import Stance, StanceModelError
from pipeline.stance.train import main as train
from pipeline.stance.verdicts import judge, read_article
from pipeline.text.attributions import find_attributions
from schemas import Claim, ClaimKind, Denial, DenialKind, MatchKind, Span, VerdictLabel

FNC_TRAIN = SHARED / "data" / "fnc1_train"
ARC_TRAIN = SHARED / "data" / "arc_train"
MAX_ARTIFACT_BYTES = 50_000_000


def _claim(text: str, statement: str, sentence: str | None = None, claim_id: str = "c1") -> Claim:
    start = text.index(sentence) if sentence else 0
    quoted = sentence or text[: text.index(".") + 1]
    return Claim(
        id=claim_id,
        statement=statement,
        claimant="the article",
        cue="none",
        kind=ClaimKind.fact,
        checkworthiness=0.9,
        spans=[Span(start=start, end=start + len(quoted), text=quoted, match=MatchKind.exact)],
    )


@pytest.mark.skipif(
    not FNC_TRAIN.is_dir() or not ARC_TRAIN.is_dir(), reason="needs ../shared/data/fnc1_train and arc_train"
)
def test_training_runs_on_a_small_sample_and_writes_a_model_its_card_describes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported: list[train_module.Fitted] = []
    monkeypatch.setattr(train_module, "to_onnx", lambda fitted: exported.append(fitted) or to_onnx(fitted))
    args = [
        str(FNC_TRAIN), str(ARC_TRAIN), "--sample", "12", "--folds", "2",
        "--out", str(tmp_path), "--cache", str(tmp_path / "cache"),
    ]  # fmt: skip
    assert train(args) == 0
    assert list((tmp_path / "cache").glob("minilm-*.npz"))  # vectors kept for the next run
    artifact, card_file = tmp_path / model.ARTIFACT.name, tmp_path / model.CARD.name
    card = json.loads(card_file.read_text(encoding="utf-8"))
    assert card["sha256"] == hashlib.sha256(artifact.read_bytes()).hexdigest() and card["artifact"] == artifact.name
    assert set(card["data"]) == {"fnc", "arc"}
    for domain in ("fnc", "arc"):
        assert card["data"][domain]["bodies"] >= 12
        assert all(card["data"][domain]["stances"][s] > 0 for s in ("agree", "disagree", "discuss", "unrelated"))
        assert (
            len(card["validation"][domain]["folds"]) == 2 and 0 <= card["validation"][domain]["mean"]["macro_f1"] <= 1
        )
    # Calibrated on the news pairs as they come: the card states their frequencies.
    stances = card["data"]["fnc"]["stances"]
    related = sum(stances[s] for s in model.STANCE_CLASSES)
    assert card["calibration"]["stance"]["class_frequencies"] == {
        s: round(stances[s] / related, 4) for s in model.STANCE_CLASSES
    }
    assert 0 < card["decision"]["debunks_threshold"] < 1
    fitted = model.StanceModel(artifact.read_bytes())
    rows = fitted.distribution(np.zeros((2, len(DENSE_NAMES)), dtype=np.float32))
    assert all(abs(sum(row.values()) - 1) < 1e-6 and set(row) == set(Stance) for row in rows)

    # The ONNX graph gives the trees' calibrated probabilities as numpy computes them: on the
    # sample's real feature rows, and on rows placed at each split's threshold and the float32 just
    # above it, where a threshold rounded to the nearest float32 sends a row down the other branch.
    (trained,) = exported
    corpus = sample_bodies(read_fnc(FNC_TRAIN), 12, train_module.SEED, per_stance=4 * 2)
    features, _, _ = feature_rows(
        corpus, EmbeddingCache(tmp_path / "cache", _not_cached, embedder.MODEL_SHA256 + embedder.TOKENIZER_SHA256)
    )
    for rows in (features, _rows_at_split_thresholds(trained, features)):
        p_related, p_stance = fitted.probabilities(rows)
        assert np.abs(p_related[:, 1] - trained.related_probability(rows)).max() <= 1e-5
        assert np.abs(p_stance - trained.stance_probabilities(rows)).max() <= 1e-5


def _not_cached(texts: object) -> np.ndarray:
    raise AssertionError("the training run should have cached every vector")


def _rows_at_split_thresholds(trained: train_module.Fitted, features: np.ndarray, count: int = 1500) -> np.ndarray:
    splits = [
        (int(node["feature_idx"]), float(node["num_threshold"]))
        for trees in (trained.related, trained.stance)
        for iteration in trees._predictors
        for tree in iteration
        for node in tree.nodes
        if not node["is_leaf"]
    ]
    rng = np.random.default_rng(0)
    rows = []
    for i in rng.choice(len(splits), min(count, len(splits)), replace=False):
        feature, threshold = splits[i]
        below = np.float32(threshold)
        if below > threshold:
            below = np.nextafter(below, np.float32(-np.inf))
        for value in (below, np.nextafter(below, np.float32(np.inf))):
            row = features[rng.integers(len(features))].copy()
            row[feature] = value
            rows.append(row)
    return np.array(rows, dtype=np.float32)


def test_a_folder_without_fnc_files_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="train_bodies.csv"):
        read_fnc(tmp_path)
    assert train([str(tmp_path)]) == 1


def test_the_shipped_artifact_matches_its_card() -> None:
    card = model.card()
    assert card["artifact"] == model.ARTIFACT.name == "stance-model.onnx" and card["runtime"] == "onnxruntime"
    assert model.ARTIFACT.stat().st_size == card["bytes"] <= MAX_ARTIFACT_BYTES
    assert hashlib.sha256(model.ARTIFACT.read_bytes()).hexdigest() == card["sha256"]
    assert card["inputs"]["embeddings"]["sha256"] == embedder.MODEL_SHA256
    assert card["inputs"]["dense_features"] == list(DENSE_NAMES)
    # Trained on all of fnc1_train and arc_train, not a sample (../shared/data/README.md's counts).
    assert (card["data"]["fnc"]["pairs"], card["data"]["arc"]["pairs"]) == (49_924, 11_979)
    assert (card["data"]["fnc"]["stances"]["disagree"], card["data"]["arc"]["stances"]["disagree"]) == (840, 1_421)
    for domain in ("fnc", "arc"):
        assert set(card["validation"][domain]["mean"]) >= {
            "macro_f1", "f1_disagree", "f1_discuss", "ece10", "related_accuracy"
        }
    assert isinstance(model.load(), model.StanceModel)


def test_a_tampered_artifact_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / model.ARTIFACT.name
    shutil.copy(model.ARTIFACT, copy)
    with copy.open("ab") as f:
        f.write(b"\0")
    monkeypatch.setattr(model, "ARTIFACT", copy)
    model.load.cache_clear()
    try:
        with pytest.raises(StanceModelError, match="refusing to load"):
            model.load()
    finally:
        model.load.cache_clear()


def test_embedding_files_are_checked_against_their_pins(tmp_path: Path) -> None:
    wrong = tmp_path / "tokenizer.json"
    wrong.write_text("{}", encoding="utf-8")
    with pytest.raises(embedder.EmbeddingModelError, match="pinned sha256"):
        embedder._checked(wrong, embedder.TOKENIZER_SHA256, "MiniLM tokenizer")
    with pytest.raises(embedder.EmbeddingModelError, match="not found"):
        embedder._checked(tmp_path / "missing.onnx", embedder.MODEL_SHA256, "embedding model")


def test_embeddings_are_normalised_and_capture_meaning() -> None:
    vectors = embedder.shared_embedder().embed(
        ["The mayor resigned on Monday.", "On Monday the mayor stepped down.", "Heavy rain flooded the harbour."]
    )
    assert vectors.shape == (3, embedder.DIMENSIONS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


ARTICLE = (
    "The city council approved a new stadium on Tuesday. The vote was 7 to 2. "
    "Construction will start in the spring and cost 300 million dollars. "
    "Mayor Lena Ortiz said the stadium would bring jobs to the east side. "
    "Critics argued the money should go to schools instead."
)


def test_an_article_that_does_not_address_the_claim_is_not_addressed() -> None:
    view = read_article(ARTICLE)
    claim = _claim(ARTICLE, "A rare comet will be visible over Antarctica next week")
    judgement = judge(view, claim, [])
    assert judgement.verdict is VerdictLabel.not_addressed
    assert abs(sum(judgement.distribution.values()) - 1) < 1e-3


def test_an_article_read_ahead_from_its_text_is_the_view_a_run_judges_with() -> None:
    """``prepare`` reads an article from its text while an LLM server starts; the run, which passes
    the attributions its windows carry, finds that view (remembered by text) and reads nothing again."""
    view = read_article(ARTICLE)
    assert read_article(ARTICLE, find_attributions(ARTICLE)) is view
    assert view.reported.any()  # "Mayor Lena Ortiz said ...": reported speech, from the attributions


def test_a_claim_the_article_states_is_related_and_its_distribution_is_a_probability() -> None:
    view = read_article(ARTICLE)
    claim = _claim(
        ARTICLE, "The city council approved a new stadium", "The city council approved a new stadium on Tuesday."
    )
    judgement = judge(view, claim, [])
    assert judgement.verdict is not VerdictLabel.not_addressed
    assert judgement.distribution[Stance.unrelated] < 0.5
    # The confidence is the calibrated probability of the stance the verdict names.
    stance = {VerdictLabel.supported: Stance.backs, VerdictLabel.unverified: Stance.reports,
              VerdictLabel.disputed: Stance.debunks,
              VerdictLabel.refuted: Stance.debunks}[judgement.verdict]  # fmt: skip
    assert (
        0 < judgement.confidence <= 1
        and judgement.confidence == pytest.approx(judgement.distribution[stance], abs=1e-3)
    )


DENIED = (
    "Singer Mara Vell secretly married her manager in Las Vegas, the tabloid Star Weekly reported on Friday. "
    "Vell denied the report on Saturday. \"I am not married, and I have never been to Las Vegas,\" she said. "
    "Her publicist called the story false."
)


def test_a_linked_denial_makes_a_claim_disputed_and_is_its_contradicting_evidence() -> None:
    from pipeline.stance.verdicts import verdict_of

    view = read_article(DENIED)
    claim = _claim(DENIED, "Mara Vell secretly married her manager in Las Vegas", DENIED.split(" Vell denied")[0])
    quote = "\"I am not married, and I have never been to Las Vegas,\""
    start = DENIED.index(quote)
    denial = Denial(
        id="d1", speaker="Mara Vell", disputes="the marriage", kind=DenialKind.explicit_denial, claim_ids=["c1"],
        spans=[Span(start=start, end=start + len(quote), text=quote)],
    )  # fmt: skip
    judgement = judge(view, claim, [denial])
    assert judgement.verdict in (VerdictLabel.disputed, VerdictLabel.refuted)
    verdict = verdict_of(view, claim, [denial], judgement)
    assert any(quote in s.text for s in verdict.contradicting)
    assert "Mara Vell disputes it" in verdict.rationale
    for span in verdict.supporting + verdict.contradicting:
        assert DENIED[span.start : span.end] == span.text


def test_a_claim_that_reports_a_denial_is_never_refuted() -> None:
    view = read_article(DENIED)
    claim = _claim(
        DENIED, "Mara Vell denied the report that she married her manager", "Vell denied the report on Saturday."
    )
    judgement = judge(view, claim, [])
    assert judgement.verdict is not VerdictLabel.refuted


_EMBEDDER_MEMORY = """
import json
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
import numpy, onnxruntime, tokenizers
before = rss()
from pipeline.stance.embedder import Embedder
embedder = Embedder()
loaded = rss()
embedder.embed([" ".join(["word"] * 126)] * 64)  # the worst case: 64 sentences at the 128-token cut
print(json.dumps({"load": loaded - before, "after_worst_case": rss() - loaded}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads resident memory from /proc")
def test_the_embedder_stays_small_and_gives_back_what_a_batch_of_long_sentences_took() -> None:
    """Memory, not time: the session took 144 MiB (constant folding made float copies of the int8
    weights), and onnxruntime's arena kept a batch of 64 long sentences' buffers for good (+408 MiB)."""
    import subprocess
    import sys

    root = ROOT
    done = subprocess.run([sys.executable, "-c", _EMBEDDER_MEMORY], cwd=root, capture_output=True, text=True,
                          timeout=120, check=True)
    grew = json.loads(done.stdout)
    assert grew["load"] <= 80, grew  # 50-51 MiB here (2026-12-07)
    assert grew["after_worst_case"] <= 100, grew  # 31-34 MiB here (2026-12-07)


def test_the_rewritten_graph_gives_the_files_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedder dequantizes only the word-embedding rows a batch gathers (``_word_rows_first``):
    the same float32 products as the file's graph, which dequantizes the whole table, so the vectors
    the stance and check-worthiness models were trained on are unchanged. Every sentence of the
    seeds, and of ../shared/data/fnc1_dev's news bodies when present (about 650 more), in the
    embedder's own batches, and one cut at 128 tokens."""
    from pipeline.text.sentences import split_sentences

    news = sorted((SHARED / "data" / "fnc1_dev").glob("*.txt"))  # absent in a clone without ../shared
    files = [*sorted((ROOT / "seeds").glob("*.txt")), *news]
    texts = list(dict.fromkeys(
        s.text.strip() for f in files for s in split_sentences(f.read_text(encoding="utf-8")) if s.text.strip()
    ))  # fmt: skip
    texts.append(" ".join(texts)[:2000])
    assert len(texts) >= (600 if news else 40)  # the seeds alone hold 46 sentences
    rewritten = embedder.Embedder().embed(texts)
    monkeypatch.setattr(embedder, "_word_rows_first", lambda model: model)  # the file's graph as published
    published = embedder.Embedder().embed(texts)
    assert np.abs(rewritten - published).max() <= 1e-6


def test_batches_hold_at_most_64_rows_and_the_attention_cap_and_every_text_once() -> None:
    lengths = [5, 128, 40, 33, 128, 7, 128, 128, 128, 90] * 13
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches = embedder._batches(order, lengths)
    assert sorted(i for rows in batches for i in rows) == list(range(len(lengths)))
    for rows in batches:
        width = max(lengths[i] for i in rows)
        assert len(rows) <= embedder.BATCH
        assert len(rows) == 1 or len(rows) * width * width <= embedder.MAX_ATTENTION_CELLS
    assert max(len(rows) for rows in batches if max(lengths[i] for i in rows) == 128) == 4
