"""A response model's JSON as a one-line example, for a model that writes JSON as free text."""

import json
from typing import Any

from pydantic import BaseModel

_SCALARS: dict[str, object] = {"string": "...", "integer": 1, "number": 0.5, "boolean": True}


def json_shape(model: type[BaseModel]) -> str:
    """``{"claims": [{"statement": "...", "sentences": [1], "kind": "fact|quote"}]}``: field names
    in order, list nesting, enum choices; descriptions stay in the prompt that asks for it."""
    schema = model.model_json_schema()
    return json.dumps(_example(schema, schema.get("$defs", {})), ensure_ascii=False)


def _example(node: dict[str, Any], defs: dict[str, Any], *, item: bool = False) -> object:
    if "$ref" in node:
        return _example(defs[node["$ref"].rsplit("/", 1)[-1]], defs, item=item)
    if "anyOf" in node:  # X | None: show X
        return _example(next((n for n in node["anyOf"] if n.get("type") != "null"), node["anyOf"][0]), defs, item=item)
    if "examples" in node:  # the model's own example: ["c1"] as the drop list's told the 1.5B to drop c1
        return node["examples"][0]
    if "enum" in node:  # one value a field, "a|b|c"; a list item shows one id, or ["c1|c2"] is copied as is
        return node["enum"][0] if item else "|".join(str(v) for v in node["enum"])
    if "const" in node:
        return node["const"]
    kind = node.get("type")
    if kind == "object":
        return {name: _example(field, defs) for name, field in node.get("properties", {}).items()}
    if kind == "array":
        return [_example(node.get("items", {}), defs, item=True)]
    return _SCALARS.get(str(kind), "...")
