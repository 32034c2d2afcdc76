#!/usr/bin/env bash
# Mutation testing of one module with cosmic-ray, against the tests that assert behaviour
# (no cassette replay: a mutant caught only by a request-body mismatch does not count).
#
#   bench/mutation.sh pipeline/text/spans.py tests/text/test_spans.py tests/stages/test_claims.py
#
# Works on a copy of this checkout (cosmic-ray rewrites the module on disk for each mutant),
# under flock /tmp/factcheck-cpu.lock so it never overlaps another heavy job. Needs cosmic-ray
# importable: PYTHON (default .venv/bin/python) with CR_PATH (extra sys.path, optional), e.g.
#   pip install --target /tmp/crpkgs --no-deps cosmic-ray anybadge decorator exit-codes gitpython \
#       gitdb smmap parso sqlalchemy stevedore pbr toml yattag
#   CR_PATH=/tmp/crpkgs bench/mutation.sh ...
# Mutants inside type annotations are dropped (they only fail at import: bench/mutation_select.py).
# TIMEOUT (seconds a mutant's tests may take, default 60: a hang counts as caught; keep it well
# above the tests' own time, and see the timeouts line). SAMPLE=N runs a fixed random sample of N of the others (SEED, default 15) for a big module.
# Prints the survival rate and every surviving mutant; the session file stays in WORK.
set -euo pipefail
module=$1; shift
tests=("$@")
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
name=$(basename "$module" .py)
work=${WORK:-/tmp/factcheck-mutation}/$name
rm -rf "$work" && mkdir -p "$work"
(cd "$root" && tar --exclude=.git --exclude=.venv --exclude='__pycache__' -cf - .) | (cd "$work" && tar -xf -)
cat > "$work/cosmic-ray.toml" <<EOF
[cosmic-ray]
module-path = "$module"
timeout = ${TIMEOUT:-60}.0
excluded-modules = []
test-command = "env -u OPENAI_API_KEY $python -m pytest -q -x -p no:cacheprovider ${tests[*]}"

[cosmic-ray.distributor]
name = "local"
EOF
cr() { (cd "$work" && PYTHONPATH="${CR_PATH:-}" "$python" -m cosmic_ray.cli "$@"); }
cr init cosmic-ray.toml session.sqlite
(cd "$work" && "$python" "$root/bench/mutation_select.py" session.sqlite "$module" --sample "${SAMPLE:-0}" --seed "${SEED:-15}")
cr baseline cosmic-ray.toml
flock /tmp/factcheck-cpu.lock bash -c "cd '$work' && PYTHONPATH='${CR_PATH:-}' '$python' -m cosmic_ray.cli exec cosmic-ray.toml session.sqlite"
(cd "$work" && PYTHONPATH="${CR_PATH:-}" "$python" -m cosmic_ray.tools.survival_rate session.sqlite) | sed "s/^/$name survival rate %: /"
(cd "$work" && PYTHONPATH="${CR_PATH:-}" "$python" -m cosmic_ray.tools.report --show-diff --surviving-only session.sqlite) > "$work/survivors.txt" || true
"$python" - "$work/session.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = dict(db.execute("select test_outcome, count(*) from work_results group by 1").fetchall())
timeouts = db.execute("select count(*) from work_results where output = 'timeout'").fetchone()[0]
print(f"{sum(n.values())} mutants run: {n.get('KILLED', 0)} caught ({timeouts} by the timeout), "
      f"{n.get('SURVIVED', 0)} survived, {n.get('INCOMPETENT', 0)} incompetent")
PY
echo "survivors: $work/survivors.txt"
