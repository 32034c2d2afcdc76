"""The fake server's answers: valid tool-call arguments for any response model's JSON schema,
filled from the request (the article's numbered sentences, the listed claim ids), and the
chat completion around them."""

import hashlib
import json
import re
import time
import uuid

from pipeline.testing.articles import MARKER

_NUMBERED = re.compile(r"^\[(\d+)\] (.*)$", re.MULTILINE)


def _user_text(body: dict[str, object]) -> str:
    return "\n".join(
        m["content"] for m in body.get("messages", []) if m.get("role") == "user" and isinstance(m.get("content"), str)
    )


def article_sentences(body: dict[str, object]) -> list[tuple[int, str]]:
    system = next((m["content"] for m in body.get("messages", []) if m.get("role") == "system"), "")
    # The system prompt holds a worked example before the article; take what follows its last header.
    tail = system.rsplit("THE ARTICLE TO ANALYSE:", 1)[-1]
    return [(int(n), text) for n, text in _NUMBERED.findall(tail)]


def article_marker(body: dict[str, object]) -> str:
    """Which article a request is about, for the fake server's counts: the synthetic articles'
    marker (``testing.articles``) wherever the request shows it, else the numbered article's first
    sentence."""
    found = MARKER.search(json.dumps(body.get("messages", []), ensure_ascii=False))
    if found:
        return found.group()
    sentences = article_sentences(body)
    return sentences[0][1] if sentences else ""


def tool_arguments(body: dict[str, object]) -> dict[str, object]:
    """Schema-valid arguments for the stage the request asks for (its tool names it: the stages'
    registry), built from the tool's own JSON schema (so a changed response model still gets valid
    answers): each claim asked for in the candidate's own words, no denials, one verdict per claim
    id asked for. A tool no built-in stage has (a stage declared elsewhere, e.g. in a test) gets
    the schema filled from the article's first sentence."""
    from pipeline.stages.registry import STAGE_BY_TOOL  # the stages load numpy: only when asked

    function = body["tools"][0]["function"]
    schema = function.get("parameters", {})
    defs = schema.get("$defs", {})
    sentences = article_sentences(body) or [(1, "")]
    answer = _BY_STAGE.get(STAGE_BY_TOOL.get(function["name"], ""), _filled)
    return answer(body, schema, defs, sentences)


def _verdicts(
    body: dict[str, object], schema: dict[str, object], defs: dict[str, dict[str, object]],
    sentences: list[tuple[int, str]],
) -> dict[str, object]:
    """One property per claim id asked about, each that claim's verdict."""
    return {key: _fill(sub, defs, {"sentence": sentences[0]}, key) for key, sub in schema["properties"].items()}  # type: ignore[union-attr]


def _no_denials(
    body: dict[str, object], schema: dict[str, object], defs: dict[str, dict[str, object]],
    sentences: list[tuple[int, str]],
) -> dict[str, object]:
    (name, _), *_ = schema["properties"].items()  # type: ignore[union-attr]  # the response holds one list
    return {name: []}


def _filled(
    body: dict[str, object], schema: dict[str, object], defs: dict[str, dict[str, object]],
    sentences: list[tuple[int, str]],
) -> dict[str, object]:
    return _fill(schema, defs, {"sentence": sentences[0]}, "")  # type: ignore[return-value]


_CANDIDATE = re.compile(r"^(c\d+) \[[^\]]*\] (.*)$", re.MULTILINE)


def written_claims(
    body: dict[str, object], schema: dict[str, object], defs: dict[str, dict[str, object]], sentences: object = None
) -> dict[str, object]:
    """Each statement asked for as the candidate's own words, none dropped, no denial linked."""
    shown = dict(_CANDIDATE.findall(_user_text(body)))
    answer: dict[str, object] = {"drop": []}
    if "statements" in schema["properties"]:  # type: ignore[operator]
        ids = list(_resolve(schema["properties"]["statements"], defs)["properties"])  # type: ignore[index, call-overload]
        answer = {"statements": {i: shown.get(i, "The article states it.") for i in ids}, **answer}
    if "disputes" in schema["properties"]:  # type: ignore[operator]
        answer["disputes"] = {i: [] for i in _resolve(schema["properties"]["disputes"], defs)["properties"]}  # type: ignore[index, call-overload]
    return answer


_BY_STAGE = {"claims": written_claims, "denials": _no_denials, "verify": _verdicts}  # by stage name
_PREFERRED = {"kind": "fact", "verdict": "unverified"}


def _resolve(schema: dict[str, object], defs: dict[str, dict[str, object]]) -> dict[str, object]:
    if "$ref" in schema:
        return _resolve(defs[str(schema["$ref"]).rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]  # type: ignore[union-attr]
        return _resolve(options[0], defs) if options else {"type": "null"}
    if "allOf" in schema and len(schema["allOf"]) == 1:  # type: ignore[arg-type]
        return _resolve(schema["allOf"][0], defs)  # type: ignore[index]
    return schema


def _fill(schema: dict[str, object], defs: dict[str, dict[str, object]], ctx: dict[str, object], name: str) -> object:
    schema = _resolve(schema, defs)
    number, text = ctx.get("sentence", (1, ""))  # type: ignore[misc]
    if "const" in schema:  # one allowed value (a denied claim's verdict can only be disputed)
        return schema["const"]
    if "enum" in schema:
        choices = list(schema["enum"])  # type: ignore[arg-type]
        if ctx.get(name) in choices:  # e.g. claim_id restricted to the article's ids
            return ctx[name]
        return _PREFERRED[name] if _PREFERRED.get(name) in choices else choices[0]
    kind = schema.get("type")
    if kind == "object":
        return {key: _fill(sub, defs, ctx, key) for key, sub in schema.get("properties", {}).items()}  # type: ignore[union-attr]
    if kind == "array":
        if "sentence" in name and not name.startswith("contradicting"):
            return [number]
        return []
    if kind == "string":
        if name in ("quote", "statement", "text"):
            return text
        if name == "claim_id":
            return ctx.get("claim_id", "c1")
        if name in ("claimant", "speaker"):
            return "the article"
        if name == "cue":
            return "none"
        return "Only the article states it; nothing confirms or contradicts it."
    if kind in ("number", "integer"):
        low, high = schema.get("minimum", 0), schema.get("maximum", 1)
        value = (low + high) / 2  # type: ignore[operator]
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return False
    return None


def completion(body: dict[str, object], arguments: str) -> dict[str, object]:
    prompt = sum(len(str(m.get("content") or "")) for m in body.get("messages", [])) // 4 + 200
    output = len(arguments) // 4 + 5
    # A request without tools asks for JSON as text (the embedded model's free decoding).
    message: dict[str, object] = (
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{uuid.uuid4().hex[:8]}",
                    "type": "function",
                    "function": {"name": body["tools"][0]["function"]["name"], "arguments": arguments},  # type: ignore[index]
                }
            ],
        }
        if body.get("tools")
        else {"role": "assistant", "content": arguments}
    )
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "finish_reason": "tool_calls" if body.get("tools") else "stop", "message": message}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": output,
            "total_tokens": prompt + output,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
    }


def body_key(body: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
