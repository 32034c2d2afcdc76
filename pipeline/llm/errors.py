"""What a failed LLM call raises. Apart from the client (no openai import), so code that only
catches these, the CLI above all, does not load the SDK."""

from typing import TYPE_CHECKING

from pipeline.llm.redaction import redact

if TYPE_CHECKING:
    from schemas import Usage


class LLMError(RuntimeError):
    """A call that cannot succeed: the message names the endpoint and the cause in one line.
    The message is redacted: a server's error body may quote the request's credentials."""

    def __init__(self, message: str):
        super().__init__(redact(message))


class EndpointError(LLMError):
    """The endpoint can answer no call at all (nothing listens, the key is rejected, the model is
    not served there): the whole run stops with this one line rather than failing every article."""


class ServerCrashError(LLMError):
    """The embedded model server died answering this call and was restarted: this call's article
    fails, the run goes on."""


class InvalidOutputError(LLMError):
    """The model answered, but nothing usable survived the re-asks (broken JSON, cut off at
    max_tokens): a stage that can do without the model's words may go on without them.
    ``usage``: what those answers cost (calls, tokens), which the stage still reports."""

    usage: "Usage | None" = None
