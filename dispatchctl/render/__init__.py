"""Renderers of a Plan: the versioned JSON document (the single redaction point) and the text
and markdown views made from it. Pure functions from data to str."""
