"""Which-referent questions: a pronoun or a definite description, and the people named before it.

Options are the (at most four) people most recently named in the sentence and the three before it,
found by a capitalised-name pattern minus the places, bodies and sentence openers these articles use.
Code's default answer (there is no resolver in the pipeline yet, so this is a baseline written for
the bench): "I/me/my" inside a quote is the quote's speaker (the attribution that holds it); a third
person pronoun is the nearest preceding person of matching gender; a description is the nearest person.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.llm.choice import Question
from pipeline.text.attributions import find_attributions
from pipeline.text.sentences import split_sentences

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
LABELS = ROOT / "bench" / "referent_labels.json"
SEED = ROOT / "seeds" / "musk-putin-bremmer.txt"
FIRST_PERSON = {"i", "me", "my"}
FEMININE_PRONOUNS = {"she", "her"}
FEMININE_FIRST_NAMES = set("Hillary Janet Kim Lori Carly Erin Barbara Nancy Elizabeth Sarah Michelle Melania".split())
_TITLES = {"Mr", "Mrs", "Ms", "Sen", "Rep", "Gov", "Dr", "Miss"}
_NAME = re.compile(r"(?:(?:Mr|Mrs|Ms|Sen|Rep|Gov|Dr)\.\s)?[A-Z][\w’'.-]+(?:\s[A-Z][\w’'.-]+){0,3}")
# Capitalised words in these articles that are not people: places, days, parties, bodies, sentence openers.
_NOT_PEOPLE = set(
    """The He She It They We I But In A And His Her Their This That These On At By Against After Before When While
    Recently Longtime Nor Its There Our If As For So Yet Or What Who Why How Also Then Some Many Most All One Two
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August
    September October November December Republican Republicans Democrat Democrats Democratic G.O.P. GOP Congress
    Senate House White America American Americans United States U.S. Iowa Florida Mexico Venezuela Miami Maine
    Kennebunkport Coralville Laconia N.H. Detroit Flint Michigan South Carolina Washington Iran Russia Ukraine
    Crimea Kremlin Moscow Ukrainian Russian Reuters Vice Tesla SpaceX Starlink DNA WASP WASPs ABSTRACT
    Catholic Roman Jesus Christian Christians Muslim Muslims Benghazi Libya State Department Judicial Watch CNN
    MSNBC Fox News Times Post Census Bureau Federal Reserve Fed Court Supreme Ohio Nevada Cleveland
    Philadelphia Virginia Indiana Wisconsin Texas California New York Hampshire African-American Club Church
    TV-friendly Civility Manners N.H Cuban-American Mexican G.O.P Louisiana Augusta Even University D.C
    Republican-held Reflecting Alphabetically Unlike Having Almighty God Continuing Asked Because ISIS Europe
    Maybe During ZIP Arab Security Change Color Fundraising Coca-Cola Does Web Afghanistan Wouldn't Okay Israel
    Committee Affairs Palestinians Jerusalem Jewish Embassy AIPAC Appearing Well Not U.S City Instead Vermont
    Corps Palestinian Palestine Let France Kristallnacht Holocaust Seen FBI Hispanic Several Additionally Years
    Email Key Blessing Eurasia Group Daily Caller News Foundation DCNF Shanghai Luhansk Donetsk Kherson
    Zaporizhzhia West UN Oct Financial Times Content River Episcopal Gallup North Clemson Another Kentucky
    D-Calif Iraq R-Wisc School Homeland Japanese-American You Public Standing Earlier Lake Both Guard Nazis
    Outside Hid Technology Hours CEO Salt Revolutionary Law Parenthood WASP-like Here Russia-Ukraine Host Chair
    Chairman Speaker Senator Sens President Director Congressman Michigan Jews Against Marquette Iranian Look Like
    Planned""".split()
)


def _clean(word: str) -> str:
    return re.sub(r"(’s|'s|’|')$", "", word.strip(".,"))


@dataclass(frozen=True)
class Mention:
    offset: int
    key: str  # the surname
    words: tuple[str, ...]  # as written, titles kept
    names: tuple[str, ...]  # the words that name the person: "Elon Musk" in "Here’s What Elon Musk"


def mentions(text: str, end: int) -> list[Mention]:
    """Every person named before ``end``; a first name said alone ("Elon") is keyed to the surname it was said with."""
    found: list[Mention] = []
    first_names: dict[str, str] = {}
    for m in _NAME.finditer(text, 0, end):
        words = [_clean(w) for w in m.group(0).split()]
        names = [w for w in words if w not in _TITLES and w not in _NOT_PEOPLE]
        if not names or len(names[-1]) < 3 or re.search(r"[’'](ve|ll|m)$", names[-1]):
            continue
        key = names[-1]
        if len(names) >= 2:
            first_names[names[0]] = key
        key = first_names.get(key, key)
        found.append(Mention(m.start(), key, tuple(words), tuple(names)))
    return found


@dataclass(frozen=True)
class ReferentItem:
    key: str
    doc: str
    question: Question
    keys: tuple[str, ...]  # the options' surnames
    gold: int
    code: int


def _items_in(doc: str, text: str, labelled: list[dict]) -> list[ReferentItem]:
    sentences = split_sentences(text)
    speakers = [(a.content.start, a.content.end, a.source) for a in find_attributions(text) if a.content and a.source]
    items = []
    for label in labelled:
        start, end = label["start"], label["end"]
        pronoun = text[start:end]
        k = max(i for i, s in enumerate(sentences) if s.start <= start)
        window = sentences[max(0, k - 3)].start
        before = mentions(text, start)
        latest: dict[str, int] = {}
        for mention in before:
            if mention.offset >= window:
                latest[mention.key] = mention.offset
        keys = sorted(latest, key=lambda key: -latest[key])[:4]
        if len(keys) < 2 or label["gold"] not in keys:
            continue  # one person named: nothing to ask; the referent not among them: code cannot offer it
        forms = [m for m in before if len(m.names) <= 3]  # a longer run is a headline's capitals, not a name
        full = {key: max((" ".join(m.names) for m in forms if m.key == key), key=len, default=key) for key in keys}
        feminine = {m.key for m in before if m.words[0] in {"Mrs", "Ms"} or set(m.words) & FEMININE_FIRST_NAMES}
        code = _code_answer(pronoun.lower(), start, keys, feminine, speakers, text)
        sentence = text[sentences[k].start : sentences[k].end]
        at = start - sentences[k].start
        snippet = sentence[max(0, at - 60) : at + len(pronoun) + 40].strip()
        question = Question(
            text[window : sentences[k].end].strip(),
            f'In the last sentence ("…{snippet}…"), who is "{pronoun}"?',
            [full[key] for key in keys],
        )  # fmt: skip
        items.append(ReferentItem(f"{doc}:{start}", doc, question, tuple(keys), keys.index(label["gold"]), code))
    return items


def _code_answer(pronoun: str, start: int, keys: list[str], feminine: set[str], speakers, text: str) -> int:
    if pronoun in FIRST_PERSON:
        for content_start, content_end, source in speakers:
            if content_start <= start < content_end:
                named = [i for i, key in enumerate(keys) if key in source.text]
                if named:
                    return named[0]
    if pronoun in FEMININE_PRONOUNS:
        matching = [i for i, key in enumerate(keys) if key in feminine]
    elif pronoun in {"he", "his", "him"}:
        matching = [i for i, key in enumerate(keys) if key not in feminine]
    else:
        matching = []
    return matching[0] if matching else 0  # keys are most recent first


def referent_items() -> list[ReferentItem]:
    labels = json.loads(LABELS.read_text(encoding="utf-8"))["labels"]
    items: list[ReferentItem] = []
    by_doc: dict[str, list[dict]] = {}
    for label in labels:
        by_doc.setdefault(label["doc"], []).append(label)
    sources = {}
    for line in (DATA / "polnear_dev" / "attributions.jsonl").open(encoding="utf-8"):
        record = json.loads(line)
        sources[record["doc"]] = record
    for doc, labelled in by_doc.items():
        if doc.startswith("seed:"):
            items += _items_in(doc, SEED.read_text(encoding="utf-8"), labelled)
            continue
        record = sources[doc]
        spans = [a["source"]["segments"][0] for a in record["attributions"] if a.get("source")]
        ends = {start: end for start, end in spans}
        text = (DATA / record["text_file"]).read_text(encoding="utf-8")
        items += _items_in(doc, text, [{**label, "end": ends[label["start"]]} for label in labelled])
    return items
