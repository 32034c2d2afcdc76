"""The fact-check desk: review a run's claims in a local web app and publish the result.

``serve(out_dir)`` runs the app (``factcheck review OUT_DIR``); ``create_app``
builds it for tests; ``export`` writes ClaimReview JSON-LD, CSV and an HTML report.
"""

from pipeline.review.app import create_app, serve

__all__ = ["create_app", "serve"]
