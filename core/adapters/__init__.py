"""Adapters: the technology-specific implementations of the ports."""
