"""The fact-check desk: review a run's claims in a local web app and publish the result.

``app.serve(out_dir)`` runs the app (``factcheck review OUT_DIR``); ``app.create_app`` builds
it for tests; ``export`` is the registry of export formats (``factcheck export``).
"""
