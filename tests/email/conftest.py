"""Real mail servers on loopback, as reusable factories: Dovecot IMAP and an aiosmtpd SMTP server.

`dovecot()` starts a throwaway Dovecot with passwd-file users and Maildir storage in a temp dir;
`smtp(dovecot_server)` starts an SMTP server that records every envelope and delivers mail for the
Dovecot users by writing into their Maildir (what a local delivery agent does).
"""

from __future__ import annotations

import mailbox
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from ci import free_port, need


def _has_mail_user() -> bool:
    try:
        pwd.getpwnam("mail")
    except KeyError:
        return False
    return True


DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
    auto = create
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
"""


# Debian's `mail` system user owns the test mail store (Dovecot refuses uid 0 for mail users).
MAIL_UID, MAIL_GID = (
    (pwd.getpwnam("mail").pw_uid, pwd.getpwnam("mail").pw_gid) if _has_mail_user() else (8, 8)
)


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class DovecotServer:
    root: Path
    port: int  # plain IMAP (STARTTLS offered when started with tls=True)
    users: dict[str, str]
    proc: subprocess.Popen
    host: str = "127.0.0.1"
    tls_port: int = 0  # implicit TLS (IMAPS), only with tls=True
    cert: Path | None = None  # the self-signed certificate a client must trust

    def maildir(self, user: str) -> mailbox.Maildir:
        return mailbox.Maildir(self.root / "mail" / user, create=False)

    def deliver(self, user: str, data: bytes) -> None:
        """Drop a message into the user's INBOX, as a local delivery agent would."""
        key = self.maildir(user).add(data)
        path = self.root / "mail" / user / "new" / key
        os.chown(path, MAIL_UID, MAIL_GID)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture
def dovecot() -> Iterator[Callable[..., DovecotServer]]:
    """Factory: `dovecot({"dana": "secret"}, tls=False)` -> a running DovecotServer; stopped at teardown.

    With tls=True it gets a self-signed certificate for 127.0.0.1 (needs the `openssl` command),
    offers STARTTLS on `port` and implicit TLS on `tls_port`.
    """
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    started: list[DovecotServer] = []

    def start(users: dict[str, str] | None = None, *, tls: bool = False) -> DovecotServer:
        need(binary is not None, "Dovecot is not installed (Debian: apt-get install dovecot-imapd)")
        if tls:
            need(
                shutil.which("openssl") is not None,
                "the openssl command is needed to make a test certificate",
            )
        users = users or {"dana": "dana-secret"}
        # Login processes run as dovenull and must reach base_dir: pytest's 0700 tmp dirs are not enough.
        root = Path(tempfile.mkdtemp(prefix="persona-dovecot-"))
        root.chmod(0o755)
        for sub in ("run", "state", "mail", "home"):
            (root / sub).mkdir()
        (root / "users").write_text(
            "".join(f"{u}:{{PLAIN}}{p}:{MAIL_UID}:{MAIL_GID}::{root}/home/{u}::\n" for u, p in users.items())
        )
        for user in users:
            for sub in ("home", "mail"):
                mailbox.Maildir(root / sub / user, create=True)
                for path in (root / sub / user).rglob("*"):
                    os.chown(path, MAIL_UID, MAIL_GID)
                os.chown(root / sub / user, MAIL_UID, MAIL_GID)
        port, tls_port, cert, ssl_conf = free_port(), 0, None, "ssl = no"
        if tls:
            tls_port, cert = free_port(), _self_signed(root)
            ssl_conf = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{root / 'key.pem'}"
        conf = root / "dovecot.conf"
        conf.write_text(DOVECOT_CONF.format(root=root, port=port, tls_port=tls_port, ssl=ssl_conf))
        proc = subprocess.Popen(
            [binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        server = DovecotServer(root=root, port=port, users=users, proc=proc, tls_port=tls_port, cert=cert)
        started.append(server)
        try:
            wait_for_port(port, proc)
        except RuntimeError as exc:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"Dovecot did not start: {exc}\n{out}\n{server.log()}") from None
        return server

    yield start
    for server in started:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


def _self_signed(root: Path) -> Path:
    cert = root / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(root / "key.pem"),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert


@dataclass
class SmtpServer:
    host: str
    port: int
    user: str
    password: str
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    def to(self, address: str) -> list[bytes]:
        return [data for _, rcpts, data in self.received if address in rcpts]


@pytest.fixture
def smtp() -> Iterator[Callable[..., SmtpServer]]:
    """Factory: `smtp(dovecot_server, domain="northwind.example")` -> a running SMTP server with AUTH.

    Every accepted envelope is recorded; recipients `user@domain` whose `user` is a Dovecot user
    are delivered into that user's INBOX.
    """
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    controllers = []

    def start(
        imap: DovecotServer | None = None,
        *,
        domain: str = "",
        user: str = "mailer",
        password: str = "mailer-secret",
    ) -> SmtpServer:
        server = SmtpServer(host="127.0.0.1", port=free_port(), user=user, password=password)

        class Handler:
            async def handle_DATA(self, _smtp, _session, envelope):
                data = envelope.original_content or envelope.content
                server.received.append((envelope.mail_from, list(envelope.rcpt_tos), data))
                for rcpt in envelope.rcpt_tos:
                    local, _, rdomain = rcpt.lower().partition("@")
                    if imap is not None and rdomain == domain and local in imap.users:
                        imap.deliver(local, data)
                return "250 OK"

        def authenticate(_server, _session, _envelope, _mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and (
                auth_data.login.decode() == user and auth_data.password.decode() == password
            )
            return AuthResult(success=ok, handled=False)

        controller = Controller(
            Handler(),
            hostname=server.host,
            port=server.port,
            authenticator=authenticate,
            auth_require_tls=False,
        )
        controller.start()
        controllers.append(controller)
        return server

    yield start
    for controller in controllers:
        controller.stop()


# -- mail and twin helpers shared by the email tests ---------------------------------------------


def build_mail(
    sender: str,
    subject: str,
    body: str,
    *,
    to: str = "Dana Reyes <dana@northwind.example>",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    from email.message import EmailMessage
    from email.utils import make_msgid

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(MAIL_TIME)
    msg["Message-ID"] = message_id or make_msgid(domain="sender.example")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


@pytest.fixture
def make_mail() -> Callable[..., bytes]:
    """Factory: `make_mail("Sam <sam@x>", "Subject", "body", message_id=..., headers={...})` -> RFC 5322 bytes."""
    return build_mail


class ListMemory:
    """A tiny in-memory stand-in for MemoryStore.search that honours audiences, kind and `where`."""

    def __init__(self, items: list[tuple[str, str, str, dict]] | None = None):
        self.items = items or []  # (text, kind, audience, metadata)
        self.queries: list[dict] = []

    def search(self, query, audiences, k=5, kind=None, where=None):
        from persona.memory.store import Hit

        self.queries.append({"query": query, "audiences": set(audiences), "kind": kind, "where": where})
        allowed = {str(a) for a in audiences}
        hits = [
            Hit(
                text=text, score=1.0, similarity=1.0, metadata={**meta, "audience": audience}
            )  # as the store keeps it
            for text, item_kind, audience, meta in self.items
            if audience in allowed
            and (kind is None or item_kind == kind)
            and all(meta.get(key) == value for key, value in (where or {}).items())
        ]
        return hits[:k]


@pytest.fixture
def list_memory() -> type[ListMemory]:
    return ListMemory


# When test mail is sent, and "now" for the apps that read it: fixed, so relative dates stay true.
MAIL_TIME = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def make_app(home):
    """Factory: `make_app(replies)` -> (App on the test home with a scripted LLM and a ListMemory, the model)."""
    from persona.app import App
    from persona.llm.client import LLM
    from persona.llm.scripted import ScriptedChatModel
    from persona.settings import Settings

    def build(replies=(), memory: ListMemory | None = None):
        model = ScriptedChatModel(replies=list(replies))
        app = App(home, Settings(), llm=LLM(model, local=True), clock=lambda: MAIL_TIME)
        app.__dict__["memory"] = memory or ListMemory()
        return app, model

    return build


@pytest.fixture(name="free_port")
def free_port_fixture() -> Callable[[], int]:
    return free_port


@pytest.fixture
def run_inbox() -> Callable[..., subprocess.CompletedProcess]:
    """Factory: `run_inbox(home, crash_at, env)` runs one inbox pass in a child process (scripted model).

    With `crash_at` the child kills itself with SIGKILL at that step (PERSONA_CRASH_AT).
    """
    runner = Path(__file__).with_name("inbox_runner.py")

    def run(home, crash_at: str | None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        child_env = {
            k: v for k, v in os.environ.items() if not k.startswith(("PERSONA_MAIL_", "PERSONA_CRASH"))
        }
        child_env.update(env or {})
        if crash_at:
            child_env["PERSONA_CRASH_AT"] = crash_at
        return subprocess.run(
            [sys.executable, str(runner), str(home.root)],
            env=child_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run
