"""The check-worthiness model: the shipped artifact against its card, its scores on sentences
the tests write themselves, its training command end to end, and that scoring needs no scikit-learn."""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_process import env_for
from recording import SHARED

from pipeline.stance import checkworthy, embedder
from pipeline.stance import train_checkworthy as train_module
from pipeline.stance._worthiness_features import CUE_NAMES, WIDTH, cue_rows, worthiness_rows
from pipeline.stance.checkworthy import CheckworthyModelError, checkworthiness
from pipeline.stance.data import EmbeddingCache

CLAIMBUSTER = SHARED / "data" / "claimbuster_train"
TRAINING = ("sklearn", "scipy", "joblib", "threadpoolctl", "skl2onnx", "onnx")


def test_the_shipped_artifact_matches_its_card() -> None:
    card = checkworthy.card()
    assert (
        card["artifact"] == checkworthy.ARTIFACT.name == "checkworthy-model.onnx" and card["runtime"] == "onnxruntime"
    )
    assert checkworthy.ARTIFACT.stat().st_size == card["bytes"]
    assert hashlib.sha256(checkworthy.ARTIFACT.read_bytes()).hexdigest() == card["sha256"]
    assert card["inputs"]["embeddings"]["sha256"] == embedder.MODEL_SHA256
    assert card["inputs"]["cues"] == list(CUE_NAMES) and card["inputs"]["width"] == WIDTH
    assert card["data"]["sentences"] == 7_974 and card["data"]["checkworthy"] == 1_994  # all of it, not a sample
    assert 0 < checkworthy.THRESHOLD == card["threshold"]["value"] < 1
    validation = card["validation"]
    assert len(validation["at_threshold"]["folds"]) == 5
    assert (
        {"f1", "precision", "recall"}
        <= set(validation["at_threshold"]["mean"])
        == set(validation["at_threshold"]["std"])
    )
    assert isinstance(checkworthy.load(), checkworthy.CheckworthyModel)


def test_a_tampered_artifact_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / checkworthy.ARTIFACT.name
    shutil.copy(checkworthy.ARTIFACT, copy)
    with copy.open("ab") as f:
        f.write(b"\0")
    monkeypatch.setattr(checkworthy, "ARTIFACT", copy)
    checkworthy.load.cache_clear()
    try:
        with pytest.raises(CheckworthyModelError, match="refusing to load"):
            checkworthy.load()
    finally:
        checkworthy.load.cache_clear()


def test_a_news_claim_scores_above_the_threshold_and_courtesies_and_questions_below() -> None:
    claim = "Unemployment rose to 7.2 percent in March, the Labor Department said."
    scores = checkworthiness([claim, "Thank you very much.", "What do you think?"])
    assert scores.shape == (3,) and scores.dtype == np.float64
    assert scores[0] >= checkworthy.THRESHOLD > max(scores[1], scores[2]), scores
    # One batch or one at a time: the same scores.
    assert np.allclose(
        scores, [checkworthiness([s])[0] for s in (claim, "Thank you very much.", "What do you think?")], atol=1e-6
    )
    assert checkworthiness([]).shape == (0,)


def test_cues_count_what_they_name() -> None:
    (row,) = cue_rows(["Unemployment rose to 7.2 percent in March, the Labor Department said."])
    cues = dict(zip(CUE_NAMES, row, strict=True))
    assert cues["numbers"] >= 1 and cues["percent"] == 1 and cues["dates"] == 1 and cues["attributions"] == 1
    assert cues["named_actors"] >= 3 and cues["comparative"] >= 1  # March, Labor, Department; "rose"
    assert cues["question"] == 0 and cues["first_person"] == 0
    (question,) = cue_rows(["What do you think?"])
    assert (
        dict(zip(CUE_NAMES, question, strict=True))["question"] == 1
        and question[CUE_NAMES.index("second_person")] == 1
    )


@pytest.mark.skipif(not CLAIMBUSTER.is_dir(), reason="needs ../shared/data/claimbuster_train")
def test_training_runs_on_a_small_sample_and_its_onnx_gives_scikit_learns_probabilities(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fitted: list[object] = []
    export = train_module.to_onnx
    monkeypatch.setattr(train_module, "to_onnx", lambda model: fitted.append(model) or export(model))
    args = [
        str(CLAIMBUSTER), "--sample", "200", "--folds", "3", "--out", str(tmp_path), "--cache", str(tmp_path / "cache")
    ]
    assert train_module.main(args) == 0
    assert list((tmp_path / "cache").glob("minilm-*.npz"))  # vectors kept for the next run
    artifact, card_file = tmp_path / checkworthy.ARTIFACT.name, tmp_path / checkworthy.CARD.name
    card = json.loads(card_file.read_text(encoding="utf-8"))
    assert card["sha256"] == hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert card["data"]["sentences"] == 200 and card["data"]["checkworthy"] == 100
    assert len(card["validation"]["at_threshold"]["folds"]) == 3 and 0 < card["threshold"]["value"] < 1

    (model,) = fitted
    data = train_module.sample(train_module.read_claimbuster(CLAIMBUSTER), 200, train_module.SEED)
    features = worthiness_rows(
        data.texts, EmbeddingCache(tmp_path / "cache", _not_cached, embedder.MODEL_SHA256 + embedder.TOKENIZER_SHA256)
    )
    onnx_probability = checkworthy.CheckworthyModel(artifact.read_bytes()).probability(features)
    assert np.abs(onnx_probability - model.predict_proba(features)[:, 1]).max() <= 1e-5  # type: ignore[attr-defined]
    assert len(set(np.round(onnx_probability, 3))) > 10  # real, varied scores


def _not_cached(texts: object) -> np.ndarray:
    raise AssertionError("the training run should have cached every vector")


def test_a_bad_training_folder_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert train_module.main([str(tmp_path)]) == 1
    assert "sentences.jsonl: not found" in capsys.readouterr().err
    (tmp_path / "sentences.jsonl").write_text(
        '{"id": "cb-1", "text": "Taxes rose.", "checkworthy": true}\n'
        '{"id": "cb-2", "text": "Hi."}\n',
        encoding="utf-8",
    )
    with pytest.raises(train_module.DataError, match=r"sentences.jsonl:2: 'checkworthy' is not true or false"):
        train_module.read_claimbuster(tmp_path)


def test_scoring_loads_no_training_library(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pipeline.stance.checkworthy import THRESHOLD, checkworthiness\n"
        "scores = checkworthiness(['Unemployment rose to 7.2 percent in March.', 'Thank you.'])\n"
        "assert scores[0] > THRESHOLD > scores[1], scores\n"
        f"print([m for m in sys.modules if m.split('.')[0] in {TRAINING!r}])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env_for(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
