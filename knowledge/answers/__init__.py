"""Answers composed from answer units: understand the question, match units, compose a direct reply."""
