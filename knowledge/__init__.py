"""The structured Istio knowledge base: data files, their schema, and question matching."""

from knowledge.base import KnowledgeBase, KnowledgeError, default, load
from knowledge.schema import Entry, Language

__all__ = ["Entry", "KnowledgeBase", "KnowledgeError", "Language", "default", "load"]
