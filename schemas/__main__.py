"""``python -m schemas`` rewrites the exported JSON Schemas of a run's result file and story lines."""

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.result import ArticleResult
from schemas.stories import Story

SCHEMA_FILE = Path(__file__).with_name("article_result.schema.json")
STORY_SCHEMA_FILE = Path(__file__).with_name("story.schema.json")  # one line of OUT/stories.jsonl


def exported(model: type[BaseModel] = ArticleResult) -> str:
    return json.dumps(model.model_json_schema(mode="serialization"), indent=2, ensure_ascii=False) + "\n"


EXPORTS: dict[Path, type[BaseModel]] = {SCHEMA_FILE: ArticleResult, STORY_SCHEMA_FILE: Story}

if __name__ == "__main__":
    for path, model in EXPORTS.items():
        path.write_text(exported(model), encoding="utf-8")
        print(f"wrote {path}")
