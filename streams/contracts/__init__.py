"""What every layer shares: message schemas, settings, topic names, config files, endpoints.

models/ and indexer/ may import this package and nothing else of streams/ (the
import-linter contracts in pyproject.toml, run by `make lint`); it imports nothing else of
streams/ either.
"""
