"""The seed run's result, as CI checks it: `.venv/bin/python .ci/check_seed.py OUT` after
`factcheck run seeds/musk-putin-bremmer.txt --out OUT` (every span aligned, the trained verifier's
verdicts with their probabilities), and a one-screen summary of it."""

import sys
from pathlib import Path

from schemas import ArticleResult

[path] = Path(sys.argv[1]).glob("articles/*.json")
result = ArticleResult.model_validate_json(path.read_text(encoding="utf-8"))  # checks every span too
spans = result.spans()
assert all(result.text[s.start : s.end] == s.text for s in spans)
assert result.run.verifier == "trained" and all(v.probabilities for v in result.verdicts)
usage = {stage: (u.calls, u.prompt_tokens, u.completion_tokens, u.seconds) for stage, u in result.run.usage.items()}
print(f"live 1.5B: {len(result.claims)} claims, {len(result.denials)} denials, {len(result.verdicts)} verdicts, "
      f"{len(spans)} spans aligned, {result.run.seconds:.1f} s, usage {usage}, warnings {len(result.warnings)}")
for v in result.verdicts:
    claim = next(c for c in result.claims if c.id == v.claim_id)
    print(f"  {v.claim_id} {v.verdict.value} {v.confidence:.2f}  {claim.statement}")
