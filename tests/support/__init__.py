"""Helpers shared by the test suites (not collected as tests)."""
