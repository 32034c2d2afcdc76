"""An article as the model sees it: numbered sentences, split into context windows when long."""

import re
from dataclasses import dataclass, field
from functools import cached_property

from pipeline.text import prompts
from pipeline.text.attributions import find_attributions
from pipeline.text.sentences import Sentence, numbered, split_sentences
from pipeline.text.spans import align_quote, sentence_span
from schemas import Attribution, Span

# Text planted for the model ("ignore all previous instructions ..."). Such a sentence stays in
# the article and its spans, but the model sees a placeholder instead: a small model obeys it.
_ADDRESSED_TO_MODEL = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,30}\b(instructions|prompts?|rules)\b"
    r"|\byou are (now|no longer) (a|an)\b|\bsystem prompt\b|\b(reply|respond|answer) only with\b",
    re.IGNORECASE,
)
WITHHELD = "(text addressed to AI systems; withheld as data, not an instruction)"
HEADLINE_WORDS = 20  # a first line this short with no full stop is a headline


def addressed_to_model(sentence: Sentence) -> bool:
    return bool(_ADDRESSED_TO_MODEL.search(sentence.text))


@dataclass(frozen=True)
class Window:
    """A run of whole sentences (numbered as in the full article) that fits one prompt."""

    text: str  # the full article text; spans index into it
    sentences: tuple[Sentence, ...]
    title: str | None = None  # shown to the model above the article (None when the text begins with it)
    headline: str | None = None  # the article's title, shown or not: never a claim of its own
    # The whole article's who-said-what, found once by ``windows`` and shared by its windows and
    # every stage (spans index into ``text``, like the sentences'). A function of ``text``: not compared.
    attributions: tuple[Attribution, ...] = field(kw_only=True, compare=False, repr=False)

    @cached_property
    def numbers(self) -> frozenset[int]:
        return frozenset(s.number for s in self.sentences)

    @cached_property
    def system_message(self) -> str:
        # Byte-identical for every stage of this window, so servers reuse the cached prefix.
        shown = [Sentence(s.number, s.start, s.end, WITHHELD) if addressed_to_model(s) else s for s in self.sentences]
        return prompts.render("system", title=self.title, numbered_article=numbered(shown))

    @cached_property
    def headline_numbers(self) -> frozenset[int]:
        """The article's first line when it is set as a headline: short, on its own line, with no
        full stop ("Bremmer says Musk told him of a Putin call\n"). Neither it nor what it
        attributes is a claim (a headline's attribution is cut for space: "Of a Putin call.").
        A first line that ends with a stop (PolNeAR's) is read as prose: its attributions count."""
        first = self.sentences[0] if self.sentences and self.sentences[0].number == 1 else None
        return frozenset({1}) if first is not None and _is_headline_line(self.text, first) else frozenset()

    @cached_property
    def withheld(self) -> list[int]:
        return [s.number for s in self.sentences if addressed_to_model(s)]

    @cached_property
    def _by_number(self) -> dict[int, Sentence]:
        return {s.number: s for s in self.sentences}

    def sentence(self, number: int) -> Sentence:
        return self._by_number[number]

    def focused(self, numbers: set[int]) -> "Window":
        """Only these sentences (numbered as in the article; spans still index the full text):
        a shorter prompt when the task needs only part of the article."""
        chosen = tuple(s for s in self.sentences if s.number in numbers)
        return Window(self.text, chosen, self.title, self.headline, attributions=self.attributions)

    def span(self, number: int) -> Span:
        return sentence_span([self.sentence(number)], 1)

    def sentence_numbers_of(self, span: Span) -> list[int]:
        return [s.number for s in self.sentences if s.start < span.end and span.start < s.end]

    def align(self, quote: str, near: list[int] | None = None) -> Span | None:
        valid = [n for n in near or [] if n in self.numbers]
        bounds = (self.sentence(min(valid)).start, self.sentence(max(valid)).end) if valid else None
        return align_quote(self.text, quote, bounds)

    def context(self, **extra: object) -> dict[str, object]:
        """Validation context for instructor: what the model's references are checked against."""
        return {"sentence_numbers": self.numbers, "align_quote": self.align, **extra}


def _is_headline_line(text: str, sentence: Sentence) -> bool:
    """The article's first line, short, with no full stop, on a line of its own."""
    line = sentence.text.strip()
    before, after = text[: sentence.start], text[sentence.end :]
    return (
        not before.strip(" \t#") and after[:1] in ("\n", "\r") and bool(line)
        and line[-1] not in ".!?:;”\"’'" and len(line.split()) <= HEADLINE_WORDS
    )  # fmt: skip


def windows(text: str, *, title: str | None = None, max_chars: int = 12_000, overlap: int = 2) -> list[Window]:
    """Split into windows of at most ``max_chars`` (a sentence longer than that stands alone),
    consecutive windows sharing ``overlap`` sentences. Nothing is dropped. A title the text
    begins with (a plain-text file's headline line) is not shown twice. The article's
    attributions are found here, once, and every window carries them."""
    headline = title
    if title and text.lstrip().lstrip("#").lstrip().startswith(title):
        title = None
    sentences = split_sentences(text)
    if not sentences:
        return []
    attributions = find_attributions(text)
    result: list[Window] = []
    start = 0
    while True:
        end = start
        size = 0
        while end < len(sentences) and (end == start or size + len(sentences[end].text) <= max_chars):
            size += len(sentences[end].text) + 1
            end += 1
        result.append(Window(text, tuple(sentences[start:end]), title, headline, attributions=attributions))
        if end >= len(sentences):
            return result
        start = max(end - overlap, start + 1)
