"""Prometheus metrics (names as in deploy/grafana/luotto-dashboard.json)."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_LATENCY = Histogram("luotto_http_request_duration_seconds", "HTTP request latency",
                         ["method", "route", "status"],
                         buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5))
PAYMENTS = Counter("luotto_payments_total", "payments posted, by outcome", ["outcome"])
EVENTS_APPENDED = Counter("luotto_events_appended_total", "events appended to the event store")
PROJECTION_LAG = Gauge("luotto_projection_lag_events", "events recorded but not yet in the read models")
SERVICING_RUNS = Counter("luotto_servicing_runs_total", "servicing runs, by outcome", ["outcome"])
SERVICING_DURATION = Histogram("luotto_servicing_run_duration_seconds", "duration of one organiser's run for a date",
                               buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300))
SERVICING_LOANS_FAILED = Counter("luotto_servicing_loans_failed_total", "loans a servicing run could not service")
ITEMS_SET_ASIDE = Gauge("luotto_set_aside_items", "loans, notices, digests or organisers set aside after a failure "
                        "(listed by /readyz), by kind", ["kind"])
ITEM_FAILURES = Counter("luotto_item_failures_total", "failures that set an item aside, by kind", ["kind"])
NOTICE_CHANNEL_FAULTS = Counter("luotto_notice_channel_faults_total", "delivery passes stopped because the notice "
                                "channel was not usable (e.g. Suomi.fi SERVICE_NOT_ACTIVE), by code", ["code"])
NOTICE_PAPER_FALLBACKS = Counter("luotto_notice_paper_fallbacks_total", "notices printed because the recipient had "
                                 "no electronic mailbox in use")
