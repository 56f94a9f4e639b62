"""Test helpers shipped with auditwatch (used by its own tests, the demo and the benchmarks).

`auditwatch.testing.elasticsearch` runs a real local Elasticsearch; it is not imported here so
that `python -m auditwatch.testing.elasticsearch` runs cleanly and unit tests never load it.
"""
