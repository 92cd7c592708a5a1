"""Turning files into structured documents and chunks."""
