"""Tests of the pure core: diff, ordering, renderers."""
