"""Reading articles: formats, metadata, and a clear one-line error for each bad input."""

import json
from pathlib import Path

import pytest
from recording import SEED

from pipeline.run.inputs import discover
from pipeline.text.ingest import InputError, article_id, read_articles


def test_text_article_keeps_the_text_exactly(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Headline\r\nBody “quoted” text.\n", encoding="utf-8")
    [article] = read_articles(path)
    assert article.text == "Headline\nBody “quoted” text.\n"
    assert article.meta.id == article_id(article.text)
    assert len(article.meta.id) == 16


def test_html_article_text_is_extracted(tmp_path: Path) -> None:
    body = " ".join(["Senator Jane Roe said the bridge would reopen in May, according to officials."] * 6)
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Bridge to reopen</title></head><body><nav>Home | Sports | Weather</nav>"
        f"<article><h1>Bridge to reopen</h1><p>{body}</p><p>The mayor declined to comment.</p></article>"
        "<footer>Copyright 2024 Example News</footer><script>var x = 1;</script></body></html>",
        encoding="utf-8",
    )
    [article] = read_articles(path)
    assert "Senator Jane Roe said the bridge would reopen in May" in article.text
    assert "var x" not in article.text and "Home | Sports" not in article.text
    assert article.meta.title == "Bridge to reopen"


def test_jsonl_records_with_metadata(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    rows = [
        {
            "id": "wire-1", "text": "First article text.", "title": "One", "url": "https://example.org/1",
            "outlet": "Wire",
        },
        {"text": "Second article text."},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    first, second = read_articles(path)
    assert (first.meta.external_id, first.meta.url, first.meta.outlet) == ("wire-1", "https://example.org/1", "Wire")
    assert second.meta.source == f"{path}:2"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\n ", "empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("latin1.txt", "Caf\u00e9 au lait, señor".encode("latin-1"), "not UTF-8"),
        ("broken.json", b'{"text": "unterminated', "invalid JSON"),
        ("notext.json", b'{"title": "no body"}', "no string 'text'"),
        ("nothing.html", b"<html><body><script>1</script></body></html>", "no article text"),
    ],
)
def test_bad_input_names_the_file(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        list(read_articles(path))
    text = str(caught.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text


def test_folder_walk_skips_and_lists_unknown_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / "b.html").write_text("<p>x</p>", encoding="utf-8")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / ".hidden.txt").write_text("x", encoding="utf-8")
    files, missing = discover([tmp_path, tmp_path / "gone"])
    skipped: list[str] = []
    assert sorted(f.name for f in files.walk(skipped.append)) == ["a.txt", "b.html"]
    assert [line for line in skipped if "photo.jpg" in line] == [
        f"{tmp_path / 'photo.jpg'}: skipped (not an article file type)"
    ]
    assert missing == [f"{tmp_path / 'gone'}: no such file or folder"]


def test_a_plain_text_headline_line_becomes_the_title(tmp_path: Path) -> None:
    seed = SEED
    [article] = read_articles(seed)
    assert article.meta.title == "Here’s What Elon Musk Allegedly Said About Putin"
    assert article.text == seed.read_text(encoding="utf-8")  # the text keeps its first line: offsets unchanged
    cases = {
        "not.txt": (
            "The council voted on Tuesday to raise water rates.\nThe vote was 5 to 2 after a long debate on the budget."
        ),
        "alone.txt": "Budget vote delayed",
        "list.txt": "Shopping list for the week\nmilk\neggs",
        "heading.md": "# Budget vote delayed\n\nThe council delayed its budget vote on Monday after a long debate.",
    }
    titles = {}
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        [found] = read_articles(tmp_path / name)
        titles[name] = found.meta.title
    assert titles == {"not.txt": None, "alone.txt": None, "list.txt": None, "heading.md": "Budget vote delayed"}
