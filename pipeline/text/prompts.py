"""Prompt templates: Jinja2 files in ``prompts/``, each versioned by its content hash."""

import hashlib
from functools import cache
from pathlib import Path

import jinja2

import prompts

# The templates are package data of the top-level ``prompts`` package, so a wheel has them too.
PROMPTS_DIR = Path(prompts.__file__).resolve().parent

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(PROMPTS_DIR),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=False,
    autoescape=False,  # plain text for a model, not HTML
)


def render(name: str, **values: object) -> str:
    return _env.get_template(f"{name}.j2").render(**values).strip()


@cache
def version(name: str) -> str:
    """First 12 hex digits of the template's sha256: changes whenever its text does."""
    return hashlib.sha256((PROMPTS_DIR / f"{name}.j2").read_bytes()).hexdigest()[:12]
