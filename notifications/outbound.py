"""Talking to the outside: the organization's webhook and e-mail. No database access here.

Webhook requests are JSON POSTs in the style of the common chat robots (WeCom, DingTalk, Feishu):

    {"msgtype": "text", "text": {"content": "..."}}

The body is UTF-8 JSON without insignificant whitespace. With a webhook secret set, the request
is signed (receivers verify it like Stripe's or GitHub's signatures):

    X-Timestamp: <unix seconds>
    X-Signature: sha256=<hex HMAC-SHA256(secret, "<X-Timestamp>." + body bytes)>
    X-Event-Id:  <the event's dedupe key: the same for every retry of one message>

A receiver recomputes the HMAC over the timestamp, a dot and the exact body bytes, compares in
constant time, and may reject timestamps older than a few minutes (replay) and event ids it has
seen (retries). Redirects are not followed; loopback, private and link-local addresses are
refused unless NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE (the URL is set by a tenant: no SSRF).
"""

import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

USER_AGENT = "AgentTeams-Webhook/1.0"
MAX_RESPONSE_BYTES = 64 * 1024
# Statuses worth retrying; any other 4xx means the request itself is wrong.
RETRY_STATUSES = frozenset({408, 409, 425, 429})


class DeliveryError(Exception):
    """A send failed. `permanent` failures are not retried."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def webhook_body(content: str) -> bytes:
    payload = {"msgtype": "text", "text": {"content": content}}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def check_destination(url: str, *, allow_private: bool) -> None:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise DeliveryError(f"not an http(s) URL: {url!r}", permanent=True)
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise DeliveryError(f"cannot resolve {parsed.hostname}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise DeliveryError(
                f"{parsed.hostname} resolves to a non-public address ({address})", permanent=True
            )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx then surfaces as an HTTPError


def webhook_post(
    *,
    url: str,
    secret: str,
    content: str,
    event_id: str,
    timeout: float,
    allow_private: bool = False,
) -> int:
    """POST one message; returns the HTTP status. Raises DeliveryError on failure."""
    check_destination(url, allow_private=allow_private)
    body = webhook_body(content)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Timestamp": timestamp,
        "X-Event-Id": event_id,
    }
    if secret:
        headers["X-Signature"] = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
            answer = response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        permanent = 400 <= exc.code < 500 and exc.code not in RETRY_STATUSES
        raise DeliveryError(f"HTTP {exc.code}", permanent=permanent) from exc
    except (urllib.error.URLError, OSError) as exc:  # refused, reset, timeout, TLS
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{type(exc).__name__}: {reason}") from exc
    # Chat robots answer 200 with {"errcode": <non-zero>, "errmsg": ...} when they refuse a
    # message (rate limit, bad key): that is not a delivery.
    try:
        decoded = json.loads(answer or b"null")
    except ValueError:
        decoded = None
    if isinstance(decoded, dict) and decoded.get("errcode") not in (None, 0, "0"):
        raise DeliveryError(f"robot error {decoded.get('errcode')}: {decoded.get('errmsg', '')}")
    return status
