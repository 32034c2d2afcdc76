"""The sentence embedder: vectors of texts asked again come from its memory, the same as computed."""

import numpy as np
import pytest

from pipeline.stance import embedder as embedder_module
from pipeline.stance.embedder import DIMENSIONS, Embedder

SENTENCES = [
    "Technology mogul Elon Musk allegedly spoke to Russian President Vladimir Putin.",
    "Musk subsequently denied the conversation with Putin.",
    "SpaceX and the Kremlin did not immediately respond to requests for comment.",
]


class CountingSession:
    """The onnxruntime session, counting the rows it is asked to embed."""

    def __init__(self, session: object) -> None:
        self._session = session
        self.rows = 0

    def run(self, names: list[str], inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.rows += len(inputs["input_ids"])
        return self._session.run(names, inputs)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def fresh() -> np.ndarray:
    return Embedder().embed(SENTENCES)


def test_texts_asked_again_are_not_embedded_again_and_get_the_same_vectors(fresh: np.ndarray) -> None:
    embedder = Embedder()
    session = embedder._session = CountingSession(embedder._session)  # type: ignore[assignment]
    first = embedder.embed(SENTENCES[:2])
    assert session.rows == 2
    # One new text, one repeated twice in the same call, one asked before.
    again = embedder.embed([SENTENCES[2], SENTENCES[0], SENTENCES[2], SENTENCES[1]])
    assert session.rows == 3  # only the new text went to the model, once
    assert again.shape == (4, DIMENSIONS)
    np.testing.assert_allclose(again, fresh[[2, 0, 2, 1]], atol=1e-5)
    np.testing.assert_array_equal(again[1], first[0])
    np.testing.assert_allclose(np.linalg.norm(again, axis=1), 1.0, atol=1e-5)


def test_memory_is_bounded_and_forgets_the_least_recently_asked(
    monkeypatch: pytest.MonkeyPatch, fresh: np.ndarray
) -> None:
    monkeypatch.setattr(embedder_module, "RECENT_TEXTS", 2)
    embedder = Embedder()
    session = embedder._session = CountingSession(embedder._session)  # type: ignore[assignment]
    embedder.embed(SENTENCES[:2])
    embedder.embed([SENTENCES[0]])  # the first is now the most recent
    embedder.embed([SENTENCES[2]])  # ... so the second is forgotten
    assert len(embedder._recent) == 2 and session.rows == 3
    np.testing.assert_allclose(embedder.embed([SENTENCES[1]]), fresh[[1]], atol=1e-5)
    assert session.rows == 4
    np.testing.assert_allclose(embedder.embed([SENTENCES[2], SENTENCES[1]]), fresh[[2, 1]], atol=1e-5)
    assert session.rows == 4


def test_no_texts_no_vectors() -> None:
    assert Embedder().embed([]).shape == (0, DIMENSIONS)


def test_the_sessions_pool_threads_sleep_between_runs_instead_of_spinning() -> None:
    """onnxruntime's pool threads spin-wait for the next run by default: across hundreds of small
    articles that burnt a core and most of a run's kernel time (futex calls; docs/stance-model.md, "Cost")."""
    options = embedder_module.shared_embedder()._session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.get_session_config_entry("session.inter_op.allow_spinning") == "0"
