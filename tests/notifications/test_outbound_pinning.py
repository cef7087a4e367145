"""DNS rebinding: the webhook request goes to the address that was checked, not to whatever a
second DNS lookup answers (notifications/outbound.py)."""

import http.server
import json
import socket
import ssl
import threading

import pytest

from notifications import outbound
from notifications.outbound import DeliveryError, webhook_post

PUBLIC = "93.184.216.34"
HOST = "hook.example.com"


class RebindingResolver:
    """Answers HOST with a public address the first time and 127.0.0.1 afterwards (what a
    rebinding DNS server with a zero TTL does); everything else as the system does."""

    def __init__(self, real):
        self.real = real
        self.asked = 0

    def __call__(self, host, port, *args, **kwargs):
        if host != HOST:
            return self.real(host, port, *args, **kwargs)
        self.asked += 1
        address = PUBLIC if self.asked == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]


@pytest.fixture
def resolver(monkeypatch):
    fake = RebindingResolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 that records what it receives: plays the public receiver
    when a connection to PUBLIC is routed to it, and the internal victim otherwise."""
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append({"host": self.headers["Host"], "path": self.path})
            self.rfile.read(int(self.headers["Content-Length"]))
            answer = json.dumps({"errcode": 0}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd.server_address[1], received
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def connections(monkeypatch, server):
    """Record every socket the client opens; a connection to PUBLIC reaches the local server
    (standing in for the real public receiver, since tests have no internet)."""
    port, _received = server
    opened = []
    real = socket.create_connection

    def create_connection(address, *args, **kwargs):
        opened.append(address)
        if address[0] == PUBLIC:
            return real(("127.0.0.1", port), *args, **kwargs)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return opened


def post(url: str) -> int:
    return webhook_post(url=url, secret="s", content="hi", event_id="e:1", timeout=5)


def test_the_request_goes_to_the_checked_address_not_to_the_rebound_one(
    resolver, server, connections
):
    port, received = server

    assert post(f"http://{HOST}:{port}/robot/send") == 200

    assert resolver.asked == 1  # resolved once, for the check; never again for the connection
    assert connections == [(PUBLIC, port)]
    # The receiver sees the host name, as if nothing were pinned.
    assert received == [{"host": f"{HOST}:{port}", "path": "/robot/send"}]


def test_without_pinning_the_rebound_lookup_would_reach_loopback(resolver, server, connections):
    """The attack the pinning stops: the system's own connect resolves the name a second time
    and gets 127.0.0.1."""
    port, _received = server
    outbound.check_destination(f"http://{HOST}:{port}/", allow_private=False)
    sock = socket.create_connection((HOST, port), timeout=5)
    try:
        assert sock.getpeername()[0] == "127.0.0.1"
    finally:
        sock.close()


class RecordingContext(ssl.SSLContext):
    """A verifying client TLS context that records what the handshake would be for, then fails
    like a certificate that does not match."""

    server_hostnames: list

    def wrap_socket(self, sock, server_hostname=None, **kwargs):
        self.server_hostnames.append(server_hostname)
        sock.close()
        raise ssl.SSLCertVerificationError("certificate verify failed: test")


def test_https_is_pinned_and_verifies_the_certificate_for_the_host_name(
    resolver, connections, monkeypatch
):
    context = outbound.tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname

    recording = RecordingContext(ssl.PROTOCOL_TLS_CLIENT)
    recording.server_hostnames = []
    monkeypatch.setattr(outbound, "tls_context", lambda: recording)
    with pytest.raises(DeliveryError) as caught:
        post(f"https://{HOST}:8443/robot/send")

    assert connections == [(PUBLIC, 8443)]
    assert recording.server_hostnames == [HOST]  # SNI and the host name check: the name
    assert "certificate verify failed" in str(caught.value)
    assert not caught.value.permanent
    assert resolver.asked == 1


def test_a_name_that_resolves_to_loopback_first_is_refused_without_connecting(
    monkeypatch, connections
):
    def loopback(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", loopback)
    with pytest.raises(DeliveryError) as caught:
        post(f"http://{HOST}/robot/send")
    assert caught.value.permanent and "non-public address" in str(caught.value)
    assert connections == []


@pytest.mark.parametrize(
    "url", ["ftp://hook.example.com/", "http:///robot", "http://hook.example.com:99999/", "x"]
)
def test_urls_that_are_not_http_are_refused_for_good(url, connections):
    with pytest.raises(DeliveryError) as caught:
        post(url)
    assert caught.value.permanent
    assert connections == []


def test_the_default_port_of_the_scheme_is_checked(monkeypatch):
    ports = []

    def getaddrinfo(host, port, *args, **kwargs):
        ports.append(port)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert outbound.check_destination(f"http://{HOST}/", allow_private=False) == PUBLIC
    assert outbound.check_destination(f"https://{HOST}/", allow_private=False) == PUBLIC
    assert ports == [80, 443]
    assert outbound.check_destination(f"http://{HOST}/", allow_private=True) is None
