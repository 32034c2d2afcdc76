"""PNG plots for an eval: reliability diagram and confusion matrix.

Uses matplotlib's object API with the Agg canvas, never pyplot, so no GUI
backend is touched and no global figure state leaks between calls.
"""

from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from schemas.evaluation import ReliabilityBin


def reliability_diagram(bins: Sequence[ReliabilityBin], path: Path, *, title: str) -> Path:
    figure = Figure(figsize=(5, 5), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    filled = [b for b in bins if b.count]
    ax.bar(
        [b.lo for b in filled],
        [b.accuracy for b in filled],
        width=[b.hi - b.lo for b in filled],
        align="edge",
        edgecolor="black",
        alpha=0.7,
        label="accuracy in bin",
    )
    ax.plot([b.confidence for b in filled], [b.accuracy for b in filled], "o", color="darkred", label="mean confidence")
    for b in filled:
        ax.annotate(str(b.count), ((b.lo + b.hi) / 2, b.accuracy), ha="center", va="bottom", fontsize=8)
    ax.set(xlim=(0, 1), ylim=(0, 1.05), xlabel="confidence", ylabel="accuracy", title=title)
    ax.legend(loc="upper left", fontsize=8)
    return _save(figure, path)


def confusion_plot(matrix: Sequence[Sequence[int]], labels: Sequence[str], path: Path, *, title: str) -> Path:
    figure = Figure(figsize=(5, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    image = ax.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=ax)
    ax.set_xticks(range(len(labels)), labels=list(labels))
    ax.set_yticks(range(len(labels)), labels=list(labels))
    ax.set(xlabel="predicted", ylabel="gold", title=title)
    peak = max((v for row in matrix for v in row), default=0)
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center", color="white" if value > peak / 2 else "black")
    return _save(figure, path)


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a reader never sees half a PNG.
    partial = path.with_name(f".{path.name}.tmp")
    figure.savefig(partial, format="png", bbox_inches="tight")
    partial.replace(path)
    return path
