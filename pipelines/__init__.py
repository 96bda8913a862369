"""Extraction pipelines: archived article responses to clean text and metadata (see the extraction issue)."""
