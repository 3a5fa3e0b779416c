"""Recorded scenarios: record, replay, expect, compare (arrives with the scenarios issue)."""
