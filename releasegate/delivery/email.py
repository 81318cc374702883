"""Notices by e-mail: the MIME message, and one SMTP conversation through smtplib.

smtplib's failures leave as our own errors: `MailUnavailable` (transient: connection
refused or closed, a time-out, a 4xx reply) or `MailRejected` (a 5xx reply, a refused
login, a certificate that does not verify). Recipients the server refuses come back in
the attempt one by one, since the others may already have the message.
"""

from __future__ import annotations

import email.policy
import html
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any

from releasegate.core import mail_headers as headers
from releasegate.core.errors import ConfigError, ReleasegateError, TransientError
from releasegate.core.subscriptions import Channel, Delivery
from releasegate.delivery.attempt import Attempt, NoticeContent

if TYPE_CHECKING:
    import smtplib
    import ssl

# 7bit: UTF-8 bodies travel as quoted-printable or base64, for servers without 8BITMIME.
# The headers are folded by `headers`, never refolded by the email package.
POLICY = email.policy.default.clone(cte_type="7bit", refold_source="none")

Refusals = Mapping[str, tuple[int, bytes]]


class MailUnavailable(TransientError):
    code = "smtp-unavailable"


class MailRejected(ReleasegateError):
    code = "smtp-rejected"


def build_message(content: NoticeContent, sender: str, to: Sequence[str]) -> EmailMessage:
    """The notice as a UTF-8 multipart/alternative message: plain text, then HTML. Every
    header goes through `headers`, which cleans, encodes and folds it."""
    message = EmailMessage(policy=POLICY)
    headers.set_text(message, "Subject", content.subject)
    try:
        headers.set_addresses(message, "From", [sender])
        headers.set_addresses(message, "To", to)
    except ValueError as error:
        raise ConfigError(str(error), code="recipients",
                          hint="e.g. IT Operations <itops@bank.example>") from None
    headers.set_text(message, "Date", formatdate(usegmt=True))
    headers.set_text(message, "Message-ID", make_msgid(domain=_domain(sender)))
    # Asks vacation responders and the like not to answer (RFC 3834).
    headers.set_text(message, "Auto-Submitted", "auto-generated")
    message.set_content(content.text)
    message.add_alternative(content.html or _html_of(content.text), subtype="html")
    # After the content: setting it clears every Content-* header.
    headers.set_text(message, "Content-Language", content.lang)
    return message


def send(channel: Channel, delivery: Delivery, content: NoticeContent,
         environ: Mapping[str, str]) -> Attempt:
    """One SMTP conversation delivering the notice to every address in `delivery.to`."""
    host, sender = _settings(channel)
    recipients = _recipients(channel, delivery)
    login = _login(channel, environ)
    message = build_message(content, sender, delivery.to)
    where = f"{host}:{_port(channel)}"
    refused = _transmit(channel, message, _address(sender), recipients, login)
    return _verdict(recipients, refused, where)


def preview(channel: Channel, delivery: Delivery, content: NoticeContent) -> str:
    """The envelope and the message `send` would hand to the server."""
    host, sender = _settings(channel)
    message = build_message(content, sender, delivery.to)
    security = "TLS" if channel.tls else "STARTTLS" if channel.starttls else "no TLS"
    login = (f", login ${channel.user_env} / ${channel.password_env}"
             if channel.user_env else "")
    lines = [f"SMTP {host}:{_port(channel)} ({security}{login})",
             f"MAIL FROM:<{_address(sender)}>",
             *(f"RCPT TO:<{address}>" for address in _recipients(channel, delivery)), ""]
    lines += [f"{name}: {value}" for name, value in message.items()]
    text = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    lines += ["", "--- text/plain ---", text.get_content() if text else "",
              f"--- text/html: {len(html_part.get_content()) if html_part else 0} characters ---"]
    return "\n".join(lines) + "\n"


def _settings(channel: Channel) -> tuple[str, str]:
    if not channel.host:
        raise _missing(channel, "host")
    if not channel.sender:
        raise _missing(channel, "from")
    try:
        headers.address_of(channel.sender)
    except ValueError as error:
        raise ConfigError(f"channel '{channel.name}': 'from' is {error}",
                          key=f"notices.channels.{channel.name}.from",
                          code="channel") from None
    return channel.host, channel.sender


def _address(item: str) -> str:
    try:
        return headers.address_of(item)
    except ValueError as error:
        raise ConfigError(str(error), code="recipients") from None


def _missing(channel: Channel, key: str) -> ConfigError:
    return ConfigError(f"the smtp channel '{channel.name}' needs '{key}'",
                       key=f"notices.channels.{channel.name}.{key}", code="channel")


def _recipients(channel: Channel, delivery: Delivery) -> tuple[str, ...]:
    bad = [item for item in delivery.to if not _usable(item)]
    if not delivery.to or bad:
        raise ConfigError(f"channel '{channel.name}' has no usable recipients"
                          + (f": {', '.join(map(repr, bad))}" if bad else ""),
                          hint="list e-mail addresses under 'to'", code="recipients")
    return tuple(headers.address_of(item) for item in delivery.to)


def _usable(item: str) -> bool:
    if any(c in item for c in "\r\n"):
        return False
    try:
        headers.address_of(item)
    except ValueError:
        return False
    return True


def _port(channel: Channel) -> int:
    return channel.port or (465 if channel.tls else 25)


def _login(channel: Channel, environ: Mapping[str, str]) -> tuple[str, str] | None:
    names = (channel.user_env, channel.password_env)
    if not any(names):
        return None
    if not all(names):
        raise ConfigError(f"channel '{channel.name}' names only one of user_env and "
                          "password_env; a login needs both", code="channel-secret")
    values = tuple(environ.get(name or "", "") for name in names)
    for name, value in zip(names, values, strict=True):
        if not value:
            raise ConfigError(f"the environment variable {name} is not set",
                              hint=f"set {name} for channel '{channel.name}'",
                              code="channel-secret")
    if not (channel.tls or channel.starttls):
        raise ConfigError(f"channel '{channel.name}' would send its password unencrypted",
                          hint="set starttls: true (or tls: true) on the channel",
                          code="channel-tls")
    return values[0], values[1]


def _transmit(channel: Channel, message: EmailMessage, sender: str,
              recipients: Sequence[str], login: tuple[str, str] | None) -> Refusals:
    import smtplib

    try:
        with _connect(channel) as smtp:
            if channel.starttls:
                smtp.starttls(context=_tls_context())
            if login:
                smtp.login(*login)
            return smtp.send_message(message, from_addr=sender, to_addrs=list(recipients))
    except smtplib.SMTPRecipientsRefused as error:
        return dict(error.recipients)
    except OSError as error:  # every smtplib exception is an OSError
        raise _translate(error, channel) from None


def _connect(channel: Channel) -> smtplib.SMTP:
    import smtplib

    if channel.tls:
        return smtplib.SMTP_SSL(channel.host or "", _port(channel), timeout=channel.timeout,
                                context=_tls_context())
    return smtplib.SMTP(channel.host or "", _port(channel), timeout=channel.timeout)


def _tls_context() -> ssl.SSLContext:
    import ssl

    return ssl.create_default_context()


def _translate(error: OSError, channel: Channel) -> ReleasegateError:
    import smtplib
    import ssl

    where = f"{channel.host}:{_port(channel)}"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return MailRejected(f"{where} refused the login: {_reply(error)}",
                            hint=f"check {channel.user_env} and {channel.password_env}")
    if isinstance(error, smtplib.SMTPResponseException):
        permanent = 500 <= error.smtp_code < 600
        return (MailRejected if permanent else MailUnavailable)(
            f"{where} answered {_reply(error)}")
    if isinstance(error, smtplib.SMTPServerDisconnected):
        # smtplib reports a read that timed out as a disconnection.
        if "timed out" in str(error):
            return _timed_out(channel)
        return MailUnavailable(f"{where} closed the connection")
    if isinstance(error, ssl.SSLCertVerificationError):
        return MailRejected(f"the certificate of {where} did not verify "
                            f"({error.verify_message})",
                            hint="SSL_CERT_FILE names the CA bundle to trust")
    if isinstance(error, smtplib.SMTPException):  # no STARTTLS, no AUTH, no common method
        return MailRejected(f"{where}: {error}")
    if isinstance(error, TimeoutError):
        return _timed_out(channel)
    if isinstance(error, ConnectionRefusedError):
        return MailUnavailable(f"{where} refused the connection")
    return MailUnavailable(f"could not talk to {where} ({error.strerror or type(error).__name__})")


def _timed_out(channel: Channel) -> MailUnavailable:
    return MailUnavailable(f"{channel.host}:{_port(channel)} did not answer within "
                           f"{channel.timeout:g} s")


def _reply(error: Any) -> str:
    text = error.smtp_error
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{error.smtp_code} {' '.join(text.split())}"


def _verdict(recipients: Sequence[str], refused: Refusals, where: str) -> Attempt:
    if not refused:
        return Attempt(ok=True, permanent=False,
                       detail=f"sent to {', '.join(recipients)} via {where}")
    who = tuple(a for a in recipients if a in refused) or tuple(refused)
    listing = "; ".join(f"{a} ({_reply_of(refused[a])})" for a in who)
    accepted = [a for a in recipients if a not in refused]
    if accepted:
        # The others have the message: sending again would reach them twice.
        return Attempt(ok=False, permanent=True, refused=who,
                       detail=f"{where} refused {listing}; sent to {', '.join(accepted)}")
    permanent = any(code >= 500 for code, _ in refused.values())
    return Attempt(ok=False, permanent=permanent, refused=who,
                   detail=f"{where} refused every recipient: {listing}")


def _reply_of(reply: tuple[int, bytes]) -> str:
    code, text = reply
    return f"{code} {' '.join(text.decode('utf-8', 'replace').split())}"


def _domain(sender: str) -> str:
    return _address(sender).rpartition("@")[2]


def _html_of(text: str) -> str:
    return ('<!DOCTYPE html>\n<html><body><pre style="white-space: pre-wrap">'
            f"{html.escape(text)}</pre></body></html>\n")
