"""Retrieval, answer composition and citation."""
