"""factcheck's code, in layers, each importing only those below it (pyproject.toml's
import-linter contracts keep them):

cli      the ``factcheck`` command, one small Typer app per command
run      runs over files and folders into an output folder; the Batch API path
eval     quality on labeled data        review   the review desk
stories  claims across articles grouped into stories, from the result files
stages   the claims, denials and verify stages; analyze an article, check a given claim
stance   the trained stance model (verdicts without an LLM)
llm      the client, its factory, backends, embedded server and transport stack
text     reading articles, sentences, windows, spans, attributions, prompt rendering
settings and _io below those; schemas and prompts at the bottom.
"""
