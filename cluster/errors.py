"""Errors from reading the cluster, each able to say what went wrong in the user's language."""

from __future__ import annotations


class ClusterError(Exception):
    """Reading the cluster failed as a whole (unreachable, unauthorised, unreadable dump)."""

    def __init__(self, en: str, ko: str | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.ko = ko or en

    def explain(self, language: str) -> str:
        return self.ko if language == "ko" else self.en
