"""Electronic notices through the Suomi.fi Messages REST API (channel "suomifi").

What this follows, and where it comes from (none of it could be checked against the live API here):

- Endpoints and JSON shapes: the REST API's own reference is the Swagger page
  https://api.messages.suomi.fi/api-docs (QA: https://api.messages-qa.suomi.fi/api-docs), which
  was not readable from here; the shapes below are those used by two public production clients
  that cite it: City of Helsinki's `django-helsinki-suomifi-messages` 1.0.0 (2026-03,
  suomifi_messages/client.py, schemas.py) and City of Espoo's eVaka
  (service/.../sficlient/rest/RestSchema.kt, SfiMessagesRestClient.kt):
    POST /v1/token            {"username", "password"} -> {"access_token", "token_type", "expires_in"}
    POST /v2/attachments      multipart/form-data, part "file" (PDF) -> {"attachmentId"}
    POST /v2/messages/electronic
                              {"externalId", "electronic": {...}, "recipient": {"id"},
                               "sender": {"serviceId"}} -> {"messageId"};
                              409 when a message with the same externalId was already sent
                              (the body may carry the original "messageId")
    GET  /v2/events[?continuationToken=...]
                              -> {"continuationToken", "events": [{"type", "eventTime",
                                  "metadata": {"messageId", "serviceId", "externalId"}}]}
  Requests carry "Authorization: Bearer <access_token>" (eVaka; the Helsinki client sends the
  bare token — one of the two details to confirm against the Swagger page).
- Event types and their meaning: "Monitoring the state information of messages",
  https://kehittajille.suomi.fi/services/messages/functionalities/monitoring-the-state-information-of-messages
  ("Electronic message created" = delivered to the mailbox, "... read", "Sent for printing and
  enveloping", "Posti: returned to sender", ...). Event data is kept for 60 days
  (https://kehittajille.suomi.fi/topical/changes-to-retrieving-messages-from-the-rest-api), so
  `Outbox.sync_events` must run more often than that.
- Attachments must have unique, descriptive names
  (https://kehittajille.suomi.fi/topical/keep-in-mind-when-using-suomi-fi-messages-to-send-attachments)
  and, per the Helsinki client, be used in a message within 24 hours (an upload whose message
  send then fails is simply left to expire).

Idempotency: the message's `externalId` is the outbox's `message_id` (a UUID derived from tenant,
loan and notice version), so a re-send after a crash is answered 409 by Suomi.fi and treated here
as the earlier success.

Issue 20, errors by their code (the API answers 400 with `{"reason", "validationErrors": [{"error",
"errorCode"}]}`; eVaka's RestSchema.kt reads `errorCode` there, and its tests and another public client
see it at the top level too, so both places are read):
- `MAILBOX_NOT_IN_USE`: electronic-only sending reached a recipient without a mailbox in use. That is
  `MailboxNotInUse`: the outbox sends the same letter on paper through its fallback (the print folder),
  and the loan records `paper_fallback`; the notice is never marked failed for it.
- `SERVICE_NOT_ACTIVE`, `SYSTEM_NOT_ACTIVE`: our sender service or system is not active at Suomi.fi (a
  configuration fault of ours). That is `SuomiFiConfigurationFault` (`ChannelUnavailable`): the notice
  waits without the attempt counting, the pass stops, and the fault is logged and counted
  (`luotto_notice_channel_faults_total{code}`) until an operator fixes it.
- The message's `visibility` is `Normal` (configurable): in 2026 the public clients moved from
  `Recipient only` to `Normal` (City of Espoo's eVaka, commit 14ff6f9 of 8 June 2026 "Use Normal
  visibility for suomi.fi electronic messages"; City of Helsinki's client 1.0.0 of March 2026 sends
  `Normal`). `Recipient only` hides the message from the persons the borrower has authorised to read
  their mail (Support Services Act 571/2016 §10), such as a guardian handling the borrower's affairs, and
  an acceleration notice must reach whoever reads the borrower's mail.
- `change_password` (POST /v1/change-password, the access token in the body) rotates the system
  password; adapters.notices.suomifi_password keeps it.
- The service's own paper mail (`paper_mail`, setting LUOTTO_SUOMIFI_PAPER_MAIL): with the organiser's
  printing contract (Posti Messaging user, password and contact email) and a sender address, a notice goes
  as a multichannel message (`POST /v2/messages` with an `electronic` and a `paperMail` part, as eVaka
  sends it): Suomi.fi delivers it electronically to a mailbox in use and prints it otherwise. The outcome is
  `handed_over`; the events then say which ("Electronic message created" or "Sent for printing and
  enveloping"). A recipient whose address cannot be read (last line "NNNNN City") goes electronic-only, and
  from there to the print folder if no mailbox is in use.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.notices.outbox import ChannelUnavailable, Delivery, MailboxNotInUse, OutboundNotice, PermanentDeliveryError

EVENT_OUTCOMES = {
    "Electronic message created": "delivered",
    "Electronic message read": "read",
    "Receipt confirmed": "read",
    "Sent for printing and enveloping": "sent_for_printing",
    "Posti: receipt confirmed": "delivered",
    "Posti: returned to sender": "returned",
    # "Paper mail created", "Posti: unresolved", "Electronic message from end user": no outcome.
}
_TRANSIENT_4XX = (401, 403, 408, 425, 429)  # auth: fix the credentials, the notice waits


class SuomiFiError(Exception):
    """A failure worth retrying (server error, network, rate limit)."""


class SuomiFiConfigurationFault(ChannelUnavailable):
    """SERVICE_NOT_ACTIVE or SYSTEM_NOT_ACTIVE: our side of the connection is not active at Suomi.fi."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


CONFIGURATION_FAULTS = ("SERVICE_NOT_ACTIVE", "SYSTEM_NOT_ACTIVE")
MAILBOX_NOT_IN_USE = "MAILBOX_NOT_IN_USE"
VISIBILITY = "Normal"


def error_codes(response: httpx.Response) -> list[str]:
    """The error codes of a refusal: top-level `errorCode` and each validation error's `errorCode`."""
    body = _json(response)
    codes = [body.get("errorCode")] + [v.get("errorCode") for v in body.get("validationErrors") or []
                                       if isinstance(v, dict)]
    found = [c for c in codes if isinstance(c, str) and c]
    # A body that is not the documented shape still names the code in its text.
    found += [c for c in (MAILBOX_NOT_IN_USE, *CONFIGURATION_FAULTS) if c in response.text and c not in found]
    return found


@dataclass(frozen=True)
class PaperMail:
    """The organiser's printing and enveloping contract at Suomi.fi (Posti Messaging) and its return address."""

    username: str
    password: str
    email: str
    sender: dict  # {"name", "streetAddress", "zipCode", "city", "countryCode"?}

    @classmethod
    def from_json(cls, data: dict | None) -> "PaperMail | None":
        return None if not data else cls(data["username"], data["password"], data["email"], dict(data["sender"]))


_POSTAL = re.compile(r"^\s*(\d{5})\s+(.+?)\s*$")


def postal_address(name: str, lines: list[str]) -> dict | None:
    """{"name", "streetAddress", "zipCode", "city", "countryCode"} from address lines whose last is
    "NNNNN City"; None when they cannot be read so (then no paper mail through the service)."""
    lines = [x for x in (lines or []) if x and x.strip()]
    found = _POSTAL.match(lines[-1]) if len(lines) >= 2 else None
    if not name or found is None:
        return None
    return {"name": name, "streetAddress": ", ".join(x.strip() for x in lines[:-1]), "zipCode": found.group(1),
            "city": found.group(2), "countryCode": "FI"}


class SuomiFiMessagesAdapter:
    channel = "suomifi"

    def __init__(self, base_url: str, username: str, password: str, sender_service_id: str, *,
                 timeout: float = 30.0, client: httpx.Client | None = None, visibility: str = VISIBILITY,
                 paper_mail: PaperMail | None = None):
        self.visibility, self.paper_mail = visibility, paper_mail
        self.base_url = base_url.rstrip("/")
        self.username, self.password = username, password
        self.sender_service_id = sender_service_id
        self.http = client or httpx.Client(timeout=timeout)
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    # --------------------------------------------------------------------------------- #
    # HTTP plumbing
    # --------------------------------------------------------------------------------- #

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def access_token(self, *, renew: bool = False) -> str:
        with self._lock:
            if renew or self._token is None or time.monotonic() >= self._token_expires:
                response = self._call("POST", "/v1/token", authorised=False,
                                      json={"username": self.username, "password": self.password})
                if not response.is_success:
                    # Wrong or rotated credentials are fixed by an operator; the notices wait.
                    raise SuomiFiError(f"access token: HTTP {response.status_code} {response.text[:500]}")
                body = response.json()
                self._token = body["access_token"]
                expires_in = float(body.get("expires_in") or 300)
                self._token_expires = time.monotonic() + max(expires_in - 60, expires_in / 2)
            return self._token

    def _call(self, method: str, path: str, *, authorised: bool = True, **kwargs: Any) -> httpx.Response:
        for attempt in (1, 2):
            headers = dict(kwargs.pop("headers", {}) or {})
            headers["Accept"] = "application/json"
            if authorised:
                headers["Authorization"] = f"Bearer {self.access_token(renew=attempt == 2)}"
            try:
                response = self.http.request(method, self._url(path), headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                raise SuomiFiError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
            if response.status_code == 401 and authorised and attempt == 1:
                continue  # the token expired early: get a new one once
            return response
        return response

    def check_password(self, password: str) -> bool:
        """Whether the service accepts `password` (a token can be had with it)."""
        response = self._call("POST", "/v1/token", authorised=False,
                              json={"username": self.username, "password": password})
        return response.is_success

    def change_password(self, current: str, new: str) -> None:
        """POST /v1/change-password with the access token in the body (not in a header); afterwards a new
        token is needed, so the cached one is dropped and the new password used from now on."""
        token = self.access_token(renew=True)
        response = self._call("POST", "/v1/change-password", authorised=False,
                              json={"accessToken": token, "currentPassword": current, "newPassword": new})
        if not response.is_success:
            raise SuomiFiError(f"change password: HTTP {response.status_code} {error_codes(response)}")
        with self._lock:
            self.password, self._token, self._token_expires = new, None, 0.0

    @staticmethod
    def _fail(response: httpx.Response, what: str) -> None:
        detail = response.text[:500]
        codes = error_codes(response)
        if MAILBOX_NOT_IN_USE in codes:
            raise MailboxNotInUse(f"{what}: the recipient has no Suomi.fi mailbox in use ({MAILBOX_NOT_IN_USE})")
        fault = next((c for c in codes if c in CONFIGURATION_FAULTS), None)
        if fault is not None:
            raise SuomiFiConfigurationFault(fault, f"{what}: HTTP {response.status_code} {fault}: our sender "
                                                   "service or system is not active at Suomi.fi")
        if response.status_code >= 500 or response.status_code in _TRANSIENT_4XX:
            raise SuomiFiError(f"{what}: HTTP {response.status_code} {detail}")
        raise PermanentDeliveryError(f"{what}: HTTP {response.status_code} {detail}")

    # --------------------------------------------------------------------------------- #
    # Sending
    # --------------------------------------------------------------------------------- #

    def upload_attachment(self, filename: str, pdf: bytes) -> str:
        response = self._call("POST", "/v2/attachments", files={"file": (filename, pdf, "application/pdf")})
        if not response.is_success:
            self._fail(response, "attachment upload")
        return str(response.json()["attachmentId"])

    def deliver(self, notice: OutboundNotice) -> Delivery:
        addressee = notice.addressee
        recipient = (addressee.get("recipient_id") or addressee.get("personal_identity_code")
                     or addressee.get("id"))
        if not recipient:
            raise PermanentDeliveryError("the addressee has no recipient_id (personal identity code)")
        attachment_id = self.upload_attachment(notice.filename, notice.pdf)
        title = notice.title or f"Sosiaalinen luotto {notice.loan_id}"
        body = notice.body or title
        payload = {
            "externalId": notice.message_id,
            "electronic": {
                "attachments": [{"attachmentId": attachment_id}],
                "body": body,
                "bodyFormat": "Text",
                "messageServiceType": "Normal",
                "notifications": {
                    "senderDetailsInNotifications": "Organisation and service name",
                    "unreadMessageNotification": {"reminder": "Default reminder"},
                },
                "replyAllowedBy": "No one",
                "title": title,
                "visibility": self.visibility,
            },
            "recipient": {"id": str(recipient)},
            "sender": {"serviceId": self.sender_service_id},
        }
        paper = postal_address(addressee.get("name") or "", addressee.get("address") or []) \
            if self.paper_mail is not None else None
        path, outcome = "/v2/messages/electronic", "delivered"
        if paper is not None:  # the service's own paper mail for a recipient without a mailbox in use
            path, outcome = "/v2/messages", "handed_over"
            payload["paperMail"] = {
                "attachments": [{"attachmentId": attachment_id}], "colorPrinting": False,
                "createAddressPage": True, "messageServiceType": "Normal",
                "printingAndEnvelopingService": {"postiMessaging": {
                    "contactDetails": {"email": self.paper_mail.email}, "username": self.paper_mail.username,
                    "password": self.paper_mail.password}},
                "recipient": {"address": paper}, "rotateLandscapePages": False,
                "sender": {"address": {"countryCode": "FI", **self.paper_mail.sender}}, "twoSidedPrinting": True}
        response = self._call("POST", path, json=payload)
        if response.status_code == 409:
            # Already sent under this externalId (an earlier attempt got through): same result.
            previous = _json(response).get("messageId")
            return Delivery(outcome, reference=str(previous) if previous is not None else None)
        if not response.is_success:
            self._fail(response, "electronic message" if paper is None else "multichannel message")
        return Delivery(outcome, reference=str(response.json()["messageId"]))

    # --------------------------------------------------------------------------------- #
    # Events
    # --------------------------------------------------------------------------------- #

    def poll_events(self, continuation_token: str | None = None) -> tuple[list[dict], str | None]:
        """One page of events: ([{"message_id", "outcome", "type", "event_time",
        "provider_message_id"}], next continuation token). message_id is our externalId."""
        params = {"continuationToken": continuation_token} if continuation_token else None
        response = self._call("GET", "/v2/events", params=params)
        if not response.is_success:
            self._fail(response, "events")
        body = response.json()
        events = []
        for raw in body.get("events") or []:
            metadata = raw.get("metadata") or {}
            events.append({
                "message_id": metadata.get("externalId"),
                "provider_message_id": None if metadata.get("messageId") is None else str(metadata["messageId"]),
                "type": raw.get("type"),
                "outcome": EVENT_OUTCOMES.get(raw.get("type")),
                "event_time": raw.get("eventTime"),
            })
        return events, body.get("continuationToken") or continuation_token


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
