"""``python -m pipeline.cli``: the factcheck command."""

from pipeline.cli import main

main()
