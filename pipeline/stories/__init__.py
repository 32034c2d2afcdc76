"""Stories: the claims of a run's articles that state the same proposition, whatever their wording,
with each article's stance toward it, its outlet and date (``OUT/stories.jsonl``).

Built from the result files only (no LLM call): claim statements are embedded with the shipped
MiniLM (``pipeline.stance.embedder``), cached in the output folder by result-file content hash, and
grouped by average-linkage clustering under a cosine threshold tuned on FNC-1's own stories
(``docs/stories.md``). Modules: ``build`` (the update), ``cluster``, ``vectors`` (the cache),
``view`` (reading, reviewed verdicts), ``export`` (ClaimReview and CSV of a story), ``bcubed`` and
``evaluate`` (quality on FNC-1).
"""

from pipeline.stories.build import StoriesError, StoriesUpdate, update_stories
from pipeline.stories.view import STORIES_FILE, StoriesFileError, read_stories, with_reviews

__all__ = [
    "STORIES_FILE", "StoriesError", "StoriesFileError", "StoriesUpdate", "read_stories", "update_stories",
    "with_reviews",
]
