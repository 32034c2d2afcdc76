"""What an export format is: one object that ``factcheck export`` writes, the desk serves and
links, and docs/review.md lists (see ``pipeline.review.export`` for registering one)."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pipeline.review.store import ReviewLog, RunFolder, all_states
from schemas import ArticleResult
from schemas.review import ClaimState


@dataclass(frozen=True)
class ExportSource:
    """What a format renders: a run folder with its reviews, and who publishes them."""

    out_dir: Path
    desk_name: str
    base_url: str  # prefix of the desk's URLs in the output: the desk's own when served, else --base-url ("": relative)
    served: bool = False  # True for the desk's response, False for the file `factcheck export` writes

    def articles(self) -> dict[str, ArticleResult]:
        return RunFolder(self.out_dir).articles()

    def claim_states(self, articles: dict[str, ArticleResult] | None = None) -> list[tuple[ArticleResult, ClaimState]]:
        """Every claim of the run with its effective state (the machine's result with the reviews laid over)."""
        return all_states(self.articles() if articles is None else articles, ReviewLog(self.out_dir).events())


@dataclass(frozen=True)
class ExportFormat:
    name: str  # `factcheck export --format NAME`
    filename: str  # the file `factcheck export` writes
    media_type: str  # the desk's Content-Type (a text/ type is sent as UTF-8)
    render: Callable[[ExportSource], str]
    label: str  # the desk's link to it, in every page's header
    description: str  # its entry in docs/review.md (Markdown)
    path: str = ""  # the desk's URL under /export/, when it is not the filename
    disposition: Literal["attachment", "inline"] | None = "attachment"  # how the desk's response asks to be opened

    @property
    def url(self) -> str:
        return f"/export/{self.path or self.filename}"
