"""The analysis: the claims, denials and verify stages, one claim per proposition, and the two
ways through them (analyze an article, check a given claim). The trained stance model is the
sibling package pipeline.stance."""
