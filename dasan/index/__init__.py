"""Retrieval indexes (dense embeddings, lexical search)."""
