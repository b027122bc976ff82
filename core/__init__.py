"""Pipeworks core: domain, use cases and adapters. Importing it connects to nothing."""
