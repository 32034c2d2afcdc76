"""Trim a cosmic-ray session before `cr exec` (used by bench/mutation.sh).

1. Drops the mutants inside type annotations (`str | None` -> `str - None`, ...). None of
   our modules postpones annotations, so such a mutant raises at import and is "killed"
   before any test runs: counting it would raise the score without saying anything about
   the tests.
2. With ``--sample N``, keeps a fixed random sample of N of the remaining mutants (sorted by
   position, operator and occurrence, then ``random.Random(seed).sample``), for modules too big
   to run whole. The same module text and seed give the same sample.

    python bench/mutation_select.py session.sqlite pipeline/run/scheduler.py --sample 200 --seed 15

Prints how many mutants were dropped and kept.
"""

import argparse
import ast
import random
import sqlite3
from pathlib import Path


def annotation_ranges(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) as (line, column) of every annotation in ``source``."""
    ranges = []
    for node in ast.walk(ast.parse(source)):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for a in annotations:
            if a is not None:
                ranges.append(((a.lineno, a.col_offset), (a.end_lineno or a.lineno, a.end_col_offset or 0)))
    return ranges


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("session")
    parser.add_argument("module")
    parser.add_argument("--sample", type=int, default=0, help="keep this many mutants (0: all)")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    ranges = annotation_ranges(Path(args.module).read_text(encoding="utf-8"))
    db = sqlite3.connect(args.session)
    # job_id is a random uuid per `cr init`: ordering by it made the "fixed" sample differ from run to run.
    specs = db.execute(
        "select job_id, start_pos_row, start_pos_col from mutation_specs"
        " order by start_pos_row, start_pos_col, operator_name, occurrence, operator_args"
    ).fetchall()
    in_annotation = [job for job, row, col in specs if any(lo <= (row, col) < hi for lo, hi in ranges)]
    rest = [job for job, _, _ in specs if job not in set(in_annotation)]
    keep = set(random.Random(args.seed).sample(rest, args.sample)) if 0 < args.sample < len(rest) else set(rest)
    drop = [job for job, _, _ in specs if job not in keep]
    db.executemany("delete from mutation_specs where job_id = ?", [(j,) for j in drop])
    db.executemany("delete from work_results where job_id = ?", [(j,) for j in drop])
    db.executemany("delete from work_items where job_id = ?", [(j,) for j in drop])
    db.commit()
    sampled = (f", a random sample (seed {args.seed}) of {len(keep)} of the other {len(rest)}"
               if len(keep) < len(rest) else "")
    print(f"{len(specs)} mutants: {len(in_annotation)} in annotations dropped{sampled}; {len(keep)} to run")


if __name__ == "__main__":
    main()
