"""Tests of the local Kubernetes API server (issue 3)."""
