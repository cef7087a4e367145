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

DNS rebinding: the host name is resolved once, every address it resolves to is checked, and the
connection is made to the first checked address (never resolved again), while the request keeps
the host name in its Host header and, over HTTPS, in the TLS SNI and the certificate check. A
DNS server that answers a public address to the check and 127.0.0.1 to the connection therefore
gets the request sent to the public address. Proxies from the environment (http_proxy...) are
not used for these requests: a proxy would resolve the name again itself.
"""

import functools
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
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


def check_destination(url: str, *, allow_private: bool) -> str | None:
    """Refuse what is not an http(s) URL and, unless `allow_private`, a host that resolves to
    any non-public address. Returns the checked address to connect to (the first one the name
    resolved to), or None with `allow_private` (nothing to pin: the name is resolved as usual)."""
    try:
        parsed = urllib.parse.urlsplit(url)
        port = parsed.port
    except ValueError as exc:  # a port out of range, a malformed IPv6 literal
        raise DeliveryError(f"not a valid URL: {url!r}", permanent=True) from exc
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise DeliveryError(f"not an http(s) URL: {url!r}", permanent=True)
    if allow_private:
        return None
    port = port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parsed.hostname, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise DeliveryError(f"cannot resolve {parsed.hostname}: {exc}") from exc
    if not infos:
        raise DeliveryError(f"cannot resolve {parsed.hostname}: no address")
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise DeliveryError(
                f"{parsed.hostname} resolves to a non-public address ({address})", permanent=True
            )
    return infos[0][4][0]


# --- Connections pinned to the checked address (no second DNS lookup) -------------------------


class _PinnedConnectionMixin:
    """An http.client connection that opens its socket to `address` instead of resolving its
    host again. Everything else (Host header, TLS SNI and certificate host name check) still
    uses the host name, which stays in `self.host`."""

    def __init__(self, *args, address: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._pinned_address = address
        # http.client opens the socket through this hook (a plain socket.create_connection).
        self._create_connection = self._connect_pinned

    def _connect_pinned(self, destination, *args, **kwargs):
        _host, port = destination
        return socket.create_connection((self._pinned_address, port), *args, **kwargs)


class PinnedHTTPConnection(_PinnedConnectionMixin, http.client.HTTPConnection):
    pass


class PinnedHTTPSConnection(_PinnedConnectionMixin, http.client.HTTPSConnection):
    pass


def tls_context() -> ssl.SSLContext:
    """Certificates verified against the system's CAs and the URL's host name."""
    return ssl.create_default_context()


class _PinnedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, address: str):
        super().__init__()
        self._address = address

    def http_open(self, req):
        return self.do_open(functools.partial(PinnedHTTPConnection, address=self._address), req)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, address: str):
        super().__init__(context=tls_context())
        self._address = address

    def https_open(self, req):
        return self.do_open(
            functools.partial(PinnedHTTPSConnection, address=self._address),
            req,
            context=self._context,
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
    address = check_destination(url, allow_private=allow_private)
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
    if address is None:
        opener = urllib.request.build_opener(_NoRedirect)
    else:
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            _NoRedirect,
            _PinnedHTTPHandler(address),
            _PinnedHTTPSHandler(address),
        )
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
