"""What ``factcheck eval`` writes to metrics.json: quality, calibration and cost on a labeled set."""

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.usage import Usage


class Scores(BaseModel):
    """Precision, recall and F1 from micro-averaged counts."""

    precision: float
    recall: float
    f1: float
    tp: int = Field(description="Matched predictions.")
    n_pred: int
    n_gold: int


class SpanScores(BaseModel):
    exact: Scores = Field(description="Same characters exactly (after merging a span's segments).")
    overlap: Scores = Field(description="Any character in common; one-to-one greedy matching.")


class AttributionMetrics(BaseModel):
    documents: int
    gold_attributions: int
    predicted_claims: int
    source: SpanScores = Field(description="Attribution sources and claim claimant_spans vs gold source.")
    cue: SpanScores = Field(description="Attribution cues and claim cue_spans vs gold cue.")
    content: SpanScores = Field(description="Attribution contents and claim spans (their sentences) vs gold content.")
    claimant_name: Scores = Field(description="Normalized claimant names vs gold source texts, per document.")
    claim_coverage: float = Field(
        default=0.0, ge=0, le=1,
        description="Share of gold attributions with content whose content overlaps some claim's span: "
        "the claims stage's recall.",
    )
    claims_per_article: float = Field(default=0.0, ge=0, description="Claims listed per article: what a desk reads.")
    standalone_share: float = Field(
        default=0.0, ge=0, le=1,
        description="Share of the claims' statements that stand alone (pipeline.text.standalone): no pronoun, first or "
        "second person, or reference only the article explains, and not cut before its cue.",
    )  # fmt: skip


class ClassScores(BaseModel):
    label: str
    precision: float
    recall: float
    f1: float
    support: int = Field(description="Gold items with this label.")
    predicted: int = Field(description="Items predicted with this label.")


class StanceMetrics(BaseModel):
    pairs: int
    accuracy: float
    macro_f1: float = Field(description="Unweighted mean F1 over the gold labels.")
    disagree: ClassScores = Field(description="Reported on its own: where published systems fail.")
    per_class: list[ClassScores]
    labels: list[str] = Field(description="Row (gold) and column (predicted) order of the confusion matrix.")
    confusion: list[list[int]]
    mapping: dict[str, str] = Field(description="Pipeline verdict -> dataset label.")
    matched_to_article_claim: int = Field(description="Pairs whose claim matched one the article makes.")


class ReliabilityBin(BaseModel):
    lo: float
    hi: float
    count: int
    confidence: float = Field(description="Mean confidence in the bin.")
    accuracy: float = Field(description="Fraction of the bin's verdicts whose mapped label is the gold one.")


class CalibrationMetrics(BaseModel):
    n: int = Field(description="Pairs with a verdict (and so a confidence).")
    ece_5: float = Field(description="Expected calibration error, 5 equal-width bins.")
    ece_10: float = Field(description="Expected calibration error, 10 equal-width bins.")
    brier: float = Field(description="Mean (confidence - correct)^2, correct in {0, 1}.")
    bins: list[ReliabilityBin] = Field(description="The 10-bin reliability table.")


class CostMetrics(BaseModel):
    dataset: str
    items: int
    usage: Usage = Field(description="Every stage of every item added up, as the items' results record it.")
    wall_seconds: float = Field(
        description="Sum of the items' wall times as their runs recorded them: the stages' and the text work between."
    )
    calls_per_item: float
    tokens_per_item: float = Field(description="Prompt and completion tokens per item.")
    seconds_per_item: float = Field(description="Mean wall time of an item.")
    median_seconds: float = Field(description="Median wall time of an item.")


class ItemFailure(BaseModel):
    dataset: str
    id: str
    reason: str


class EvalReport(BaseModel):
    started_at: datetime
    seconds: float
    backend: str
    model: str
    prompt_versions: dict[str, str]
    limit: int | None
    per_label: int | None = Field(default=None, description="FNC pairs taken per gold label (stratified sample).")
    datasets: dict[str, str] = Field(description="Dataset name -> folder evaluated.")
    reused: int = Field(description="Items whose cached predictions were reused instead of re-run.")
    attribution: AttributionMetrics | None = None
    stance: StanceMetrics | None = None
    calibration: CalibrationMetrics | None = None
    calibration_stated: CalibrationMetrics | None = Field(
        default=None, description="The same verdicts scored with the confidence the model wrote instead."
    )
    cost: list[CostMetrics] = Field(default_factory=list)
    failures: list[ItemFailure] = Field(default_factory=list)
    plots: list[str] = Field(default_factory=list, description="PNG files written next to metrics.json.")
