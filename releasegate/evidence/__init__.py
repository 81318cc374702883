"""Evidence: JUnit reading, stored run summaries, baselines, regression, artifacts."""
