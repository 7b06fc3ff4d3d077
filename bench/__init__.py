"""Benchmarks of the Luotto service layer on a real PostgreSQL (issue 3).

Run with `make bench` (all parts) or `.venv/bin/python -m bench a|b|c`:

(a) payments through the HTTP API per second (p50/p99) against a no-op endpoint in the same server;
(b) events appended per second by the daily servicing run against plain psycopg INSERTs;
(c) GET /v1/loans/{id} latency with 10,000 loans stored.

Progress goes to stderr, the final table to stdout. See bench/__main__.py for the sizes and the
environment variables that change them.
"""
