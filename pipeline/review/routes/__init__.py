"""The desk's routes, one router per part: queue, article, reviews, exports, stories.

Each handler gets the desk (the run folder, its reviews, its stories and its pages) as the
dependency ``DeskDep``; ``pipeline.review.app.create_app`` includes the routers.
"""
