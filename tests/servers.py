"""Loopback servers for tests: an HTTP server answering from a script, an SMTP server
(aiosmtpd) keeping what it accepts, and ports where nothing answers.

Every server binds 127.0.0.1 on a port the system picks and stops when its `with`
block ends, slow answers included.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import subprocess
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.system_tools import require

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Answer:
    """One scripted HTTP reply; a dict or list body is sent as JSON."""

    status: int = 200
    body: str | bytes | Mapping[str, Any] | list[Any] = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering

    def payload(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


@dataclass(frozen=True)
class Received:
    """One request as the HTTP server saw it."""

    method: str
    path: str
    query: Mapping[str, str]  # the first value of each parameter, decoded
    raw_query: str
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class HttpServer(ThreadingHTTPServer):
    """Answers every request with the next scripted `Answer`; the last one repeats."""

    daemon_threads = True

    def __init__(self, answers: tuple[Answer, ...]) -> None:
        super().__init__((LOOPBACK, 0), _Handler)
        self.answers = list(answers) or [Answer()]
        self.received: list[Received] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}"

    def take(self, request: Received) -> Answer:
        with self._lock:
            self.received.append(request)
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a slow answer is expected here


class _Handler(BaseHTTPRequestHandler):
    server: HttpServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        parts = urlsplit(self.path)
        request = Received(
            method=self.command, path=parts.path, raw_query=parts.query,
            query={k: v[0] for k, v in parse_qs(parts.query).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length))
        answer = self.server.take(request)
        if answer.delay and self.server.stopping.wait(answer.delay):
            return
        body, content_type = answer.payload()
        self.send_response(answer.status)
        headers = {"Content-Type": content_type, **answer.headers,
                   "Content-Length": str(len(body)), "Connection": "close"}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def http_server(*answers: Answer) -> Iterator[HttpServer]:
    """A running HTTP server on 127.0.0.1 answering from `answers` (default: 200)."""
    server = HttpServer(answers)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class Mail:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    def message(self) -> EmailMessage:
        message = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class SmtpHandler:
    """aiosmtpd hooks: refuse some recipients, answer DATA as told, keep the mail."""

    refuse: Collection[str] = ()
    refuse_reply: str = "550 5.1.1 mailbox unavailable"
    data_reply: str = "250 OK"
    received: list[Mail] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply.startswith("250"):
            self.received.append(Mail(envelope.mail_from, tuple(envelope.rcpt_tos),
                                      bytes(envelope.original_content or envelope.content)))
        return self.data_reply


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    handler: SmtpHandler

    @property
    def received(self) -> list[Mail]:
        return self.handler.received


@contextmanager
def smtp_server(*, refuse: Collection[str] = (),
                refuse_reply: str = "550 5.1.1 mailbox unavailable",
                data_reply: str = "250 OK", **smtp_options: Any) -> Iterator[SmtpServer]:
    """A running aiosmtpd server on 127.0.0.1; `smtp_options` go to aiosmtpd's SMTP
    (tls_context, require_starttls, authenticator, auth_require_tls, ...)."""
    from aiosmtpd.controller import Controller

    class LoopbackController(Controller):
        # aiosmtpd connects to self.port to check the server is up: learn the port
        # the system picked before that.
        def _trigger_server(self) -> None:
            server: Any = self.server
            self.port = server.sockets[0].getsockname()[1]
            super()._trigger_server()  # type: ignore[no-untyped-call]

    handler = SmtpHandler(refuse=refuse, refuse_reply=refuse_reply, data_reply=data_reply)
    controller = LoopbackController(handler, hostname=LOOPBACK, port=0, ready_timeout=10,
                                    **smtp_options)
    controller.start()
    try:
        yield SmtpServer(LOOPBACK, controller.port, handler)
    finally:
        controller.stop()


def closed_port() -> int:
    """A loopback port that was just free: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@contextmanager
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def loopback_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl command), and
    its key; trust it by pointing SSL_CERT_FILE at the certificate."""
    require("openssl")
    cert, key = folder / "loopback.pem", folder / "loopback.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", f"/CN={LOOPBACK}", "-addext", f"subjectAltName=IP:{LOOPBACK}",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=30)
    return cert, key
