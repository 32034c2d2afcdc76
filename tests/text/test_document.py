"""Windows of an article: which first line is a headline, never a claim."""

import pytest

from pipeline.text.document import windows


@pytest.mark.parametrize(
    ("text", "title", "headline"),
    [
        # A first line with no full stop, the title or not.
        (
            "Bremmer says Musk told him of a Putin call\nIan Bremmer said Musk told him he had spoken with Putin.",
            None, {1},
        ),
        ("Here’s What Elon Musk Allegedly Said About Putin\nMusk denied it.", "Musk denies Bremmer's account", {1}),
        # A first line that ends with a stop is read as prose (PolNeAR's headlines: their attributions count).
        ("Clinton acknowledges that she misspoke about the testimony.\nShe spoke on Friday.", None, set()),
        # A first sentence that ends with a stop is the article's.
        ("Mayor Ann Lee said the city cut its budget by 12 percent. Park said that was false.", None, set()),
        # A long first line is prose, stop or not.
        (" ".join(["word"] * 25) + "\nMore text here.", None, set()),
    ],
)
def test_the_headline_is_a_short_first_line_with_no_stop(text: str, title: str | None, headline: set[int]) -> None:
    [window] = windows(text, title=title)
    assert window.headline_numbers == headline
