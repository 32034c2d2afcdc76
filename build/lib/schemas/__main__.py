"""``python -m schemas`` rewrites the exported JSON Schema of a run's result file."""

import json
from pathlib import Path

from schemas.result import ArticleResult

SCHEMA_FILE = Path(__file__).with_name("article_result.schema.json")


def exported() -> str:
    return json.dumps(ArticleResult.model_json_schema(mode="serialization"), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(exported(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
