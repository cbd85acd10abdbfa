"""Liaison: federated cooperation on synthetic opioids and nationality verification."""

__version__ = "0.1.0"
