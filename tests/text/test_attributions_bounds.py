"""Issue 24, finding 2: the attribution stage is linear in the text, whatever its shape.

A "quote bomb" (a 50,000-character text of alternating quotation marks, with or without words
between them, and no full stop) took 19 s: every token was checked against every quotation of
its sentence. Each shape below must take under a second of CPU (process time: another
process's load on the machine does not count against it)."""

import time

import pytest

from pipeline.text.attributions import MAX_UNIT_TOKENS, find_attributions

SIZE = 50_000
SHAPES = {
    "curly and straight, alternating": '“"',
    "straight quotes only": '"',
    "a letter between": 'a“b"',
    "words between": "“ word \" word ",
    "typewriter quotes": "''a'' ",
    "curly pairs": "“a” ",
    "quotes and cues": '"a," he said, ',
    "cues after quotes": '"a" said ',
    "cues before quotes": "said “a” ",
    "cues alone": "officials said ",
    "parentheses before cues": "( ) said ",
    "transcript lines": "Agony: x\n",
}


def _fill(unit: str) -> str:
    return (unit * (SIZE // len(unit) + 1))[:SIZE]


@pytest.mark.parametrize("unit", SHAPES.values(), ids=SHAPES.keys())
def test_a_quote_bomb_of_50k_characters_takes_under_a_second(unit: str) -> None:
    text = _fill(unit)
    clock = time.process_time()
    found = find_attributions(text)
    seconds = time.process_time() - clock
    assert seconds < 1.0, f"{seconds:.2f} s for {SIZE:,} characters of {unit!r}"
    for a in found:  # bounded, not careless: every span is still exact
        for span in (a.source, a.cue, a.content):
            assert span is None or text[span.start : span.end] == span.text


def test_the_work_grows_linearly_with_the_text() -> None:
    """Four times the text, at most about four times the work (it was sixteen). The fastest of five
    runs each: on a shared machine another process can slow one run's CPU time too (one sum of
    three runs read 15x, the same code 4.4x idle), never the fastest of five."""
    unit = '“"'
    times = []
    for size in (12_500, 50_000):
        text = (unit * size)[:size]
        runs = []
        for _ in range(5):
            clock = time.process_time()
            find_attributions(text)
            runs.append(time.process_time() - clock)
        times.append(min(runs))
    assert times[1] < 8 * max(times[0], 0.003), times


def test_ordinary_sentences_are_not_cut() -> None:
    """The bound is far above a real sentence: a 60-word sentence with its quotation keeps its
    attribution whole, as before."""
    words = " ".join(["word"] * 60)
    text = f'“{words},” Senator Jane Smith said on Tuesday.'
    (found,) = find_attributions(text)
    assert found.source is not None and found.source.text == "Senator Jane Smith"
    assert found.content is not None and found.content.text.startswith("“word")
    assert MAX_UNIT_TOKENS > 4 * 91  # the longest unit in polnear_dev and the seeds: 91 tokens
