"""The desk's Jinja environment, shared by its pages and the HTML report."""

from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from pipeline.review.links import web_url

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


def templates() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["web_url"] = web_url
    return env
