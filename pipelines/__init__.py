"""Pipelines: everything that defines or writes the peer workforce warehouse."""
