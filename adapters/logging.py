"""Structured logs on stderr, so stdout stays free for command output."""
from __future__ import annotations

import sys

import structlog


def configure() -> None:
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
