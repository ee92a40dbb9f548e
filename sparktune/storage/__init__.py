"""Durable trial stores (resume after a crash). No pickle in any file format."""

from sparktune.storage._journal import TrialFile, TrialFileError

__all__ = ["TrialFile", "TrialFileError"]
