"""Parsing: parser definitions (YAML in parsers/) compiled once into fast RawLine -> AccessEvent functions."""

from auditwatch.parsing.loader import load_parser, load_parsers
from auditwatch.parsing.runtime import CompiledParser

__all__ = ["CompiledParser", "load_parser", "load_parsers"]
