"""Quality on labeled data: FNC-1 stance pairs and PolNeAR attributions through the pipeline,
scored for stance, attribution, calibration and cost."""
