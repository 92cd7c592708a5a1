"""Dasan (다산): a self-hosted AI assistant platform for Korean public-sector documents."""

__version__ = "0.1.0"
