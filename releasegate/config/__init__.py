"""Configuration: strict YAML, the pipeline, manifest and checklist parsers, schemas."""
