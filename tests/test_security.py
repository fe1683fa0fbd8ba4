"""Secrets never leak, TLS is verified, keys never travel in clear text, and `serve` survives abuse.

The leak scanner itself is proven here: it must fail a test that leaks, in each way a leak can
be captured. Only loopback addresses are used.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from hud_sync_hook.errors import HudSyncError
from hud_sync_hook.platform.http import HttpPlatform, retry_options_from_env
from tests.helpers import secrets
from tests.helpers.repo import make_repo, run_cli
from tests.helpers.secrets import GITHUB_TOKEN, HUD_API_KEY
from tests.helpers.serve import start_serve

REPO_ROOT = Path(__file__).resolve().parents[1]
TASKS = [{"slug": f"t{i}", "env": {"name": "shop"}, "scenario": "checkout", "args": {"i": i}} for i in range(3)]


# -- the leak scanner ---------------------------------------------------------------------------


def test_the_scanner_finds_each_secret_in_text_and_files_and_never_shows_it():
    assert secrets.find_in_text(f"Authorization: Bearer {HUD_API_KEY}", "x") == ["the test HUD_API_KEY appears in x"]
    assert secrets.find_in_text(b"token=" + GITHUB_TOKEN.encode(), "y") == ["the test GITHUB_TOKEN appears in y"]
    assert secrets.find_in_text("nothing here", "z") == [] and secrets.find_in_text(None, "z") == []
    # `::add-mask::` is how a GitHub step hides a secret; the same value on any other line leaks.
    assert secrets.find_in_text(f"::add-mask::{HUD_API_KEY}\nplan ok\n", "log") == []
    assert secrets.find_in_text(f"::add-mask::{HUD_API_KEY}\nkey={HUD_API_KEY}\n", "log") == [
        "the test HUD_API_KEY appears in log"
    ]
    with tempfile.TemporaryDirectory() as folder:  # outside tmp_path: the fixture must not see it
        root = Path(folder)
        (root / "out" / "deep").mkdir(parents=True)
        (root / "out" / "deep" / "plan.json").write_text(json.dumps({"key": HUD_API_KEY}))
        (root / "summary.md").write_bytes(b"\x00\xff" + GITHUB_TOKEN.encode())
        (root / ".env").write_text(f"HUD_API_KEY={HUD_API_KEY}\n")  # where a user keeps the key
        (root / ".git" / "objects").mkdir(parents=True)
        (root / ".git" / "objects" / "ab").write_text(HUD_API_KEY)  # compressed in real life
        (root / ".git" / "config").write_text(f"url = https://x-access-token:{GITHUB_TOKEN}@github.com/o/r\n")
        found = secrets.find_in_tree(root, "the folder")
    assert sorted(found) == [
        "the test GITHUB_TOKEN appears in the file .git/config under the folder",
        "the test GITHUB_TOKEN appears in the file summary.md under the folder",
        "the test HUD_API_KEY appears in the file out/deep/plan.json under the folder",
    ]
    assert not any(HUD_API_KEY in line or GITHUB_TOKEN in line for line in found)


LEAKY_TESTS = '''
import subprocess, sys
from tests.helpers.secrets import HUD_API_KEY, GITHUB_TOKEN

def test_prints_the_key():
    print("key:", HUD_API_KEY)

def test_writes_the_token_to_stderr():
    sys.stderr.write(GITHUB_TOKEN + "\\n")

def test_reads_the_key_back_through_capsys(capsys):
    print(HUD_API_KEY)
    assert HUD_API_KEY in capsys.readouterr().out

def test_a_subprocess_shows_the_key():
    code = "import sys; print(sys.argv[1][::-1])"
    subprocess.run([sys.executable, "-c", code, HUD_API_KEY[::-1]], capture_output=True, text=True, check=True)

def test_writes_the_key_into_a_plan_file(tmp_path):
    (tmp_path / "plan.json").write_text('{"k": "%s"}' % HUD_API_KEY)

def test_keeps_the_key_in_a_dotenv_file(tmp_path):
    (tmp_path / ".env").write_text("HUD_API_KEY=" + HUD_API_KEY)

def test_clean(tmp_path):
    (tmp_path / "plan.json").write_text("{}")
    print("nothing secret")
'''


def test_the_fixture_fails_every_test_that_leaks():
    """Run a small suite of leaking tests under this conftest, in a folder the outer scan never sees."""
    import xml.etree.ElementTree as ElementTree

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        shutil.copy(REPO_ROOT / "tests" / "conftest.py", root / "conftest.py")
        (root / "test_leaky.py").write_text(LEAKY_TESTS)
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--show-capture=no",
             "--junitxml", str(root / "report.xml"), "--basetemp", str(root / "base"), "--rootdir", str(root),
             "-c", os.devnull, str(root / "test_leaky.py")],
            cwd=root, env=env, capture_output=True, text=True, timeout=120,
        )
        report = (root / "report.xml").read_text()
    assert result.returncode == 1, result.stdout + result.stderr
    errors: dict[str, list[str]] = {}
    for case in ElementTree.fromstring(report).iter("testcase"):
        messages = [e.get("message", "") for e in case if e.tag in ("error", "failure")]
        errors[case.get("name")] = messages
    leaky = {
        "test_prints_the_key": "the test HUD_API_KEY appears in the captured stdout (call)",
        "test_writes_the_token_to_stderr": "the test GITHUB_TOKEN appears in the captured stderr (call)",
        "test_reads_the_key_back_through_capsys": "the test HUD_API_KEY appears in what the test read through capsys/capfd",
        "test_a_subprocess_shows_the_key": "the test HUD_API_KEY appears in a subprocess's stdout",
        "test_writes_the_key_into_a_plan_file": "the test HUD_API_KEY appears in the file plan.json under tmp_path",
    }
    for name, where in leaky.items():
        assert len(errors[name]) == 1 and "secret leak" in errors[name][0] and where in errors[name][0], (name, report)
    assert errors["test_keeps_the_key_in_a_dotenv_file"] == []
    # The session's scan finds the leftover plan.json once more, at the last test's teardown.
    (last,) = errors["test_clean"]
    assert "plan.json under the session's temporary folder" in last and ".env" not in last
    assert HUD_API_KEY not in report + result.stdout + result.stderr
    assert GITHUB_TOKEN not in report + result.stdout + result.stderr


def test_the_key_stays_out_of_every_output_of_a_full_run(tmp_path):
    """Plan (all formats, --out), apply, export and failures, with the key: the fixture scans it all."""
    project = tmp_path / "proj"
    make_repo(project, {"tasks.json": TASKS})
    with start_serve(tmp_path, "--api-key", HUD_API_KEY) as server:
        env = {"HUD_API_KEY": HUD_API_KEY}
        for fmt in ("text", "markdown", "json"):
            planned = run_cli("plan", "ts", ".", "--api-url", server.url, "--format", fmt, "--out", f"plan.{fmt}", cwd=project, env=env)
            assert planned.returncode == 0, planned.stderr
        applied = run_cli("apply", "ts", ".", "--api-url", server.url, "--yes", cwd=project, env=env)
        assert applied.returncode == 0, applied.stderr
        exported = run_cli("export", "--out", "all.json", "--api-url", server.url, cwd=project, env=env)
        assert exported.returncode == 0, exported.stderr
        wrong = run_cli("plan", "--api-url", server.url, cwd=project, env={"HUD_API_KEY": HUD_API_KEY + "x"})
        assert wrong.returncode == 1 and "refused the API key" in wrong.stderr
    closed = run_cli("plan", "--api-url", server.url, cwd=project, env={**env, "HUD_SYNC_HOOK_MAX_ATTEMPTS": "1"})
    assert closed.returncode == 1 and "cannot reach the HUD platform" in closed.stderr
    as_url = run_cli("plan", "--api-url", f"hxxp://u:{HUD_API_KEY}@127.0.0.1", cwd=project, env=env)
    assert as_url.returncode == 1 and "***" in as_url.stderr  # the key is masked wherever it shows


# -- TLS ----------------------------------------------------------------------------------------


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1: with `cryptography` when installed, else `openssl`."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        import datetime
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        if not shutil.which("openssl"):
            pytest.skip("neither the cryptography package nor the openssl command is available")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True,
        )
        return cert, key
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert, key


class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        body = b'{"detail": "Not Found"}'
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path):
    cert, key = _self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _Recorder.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def test_a_self_signed_certificate_is_refused_at_once_and_no_request_gets_through(tls_server, tmp_path):
    url, cert = tls_server
    project = tmp_path / "proj"
    make_repo(project, {"tasks.json": TASKS})
    # SSL_CERT_FILE naming the certificate must not help either: loopback calls ignore the environment.
    # A retry could not help: with 6 attempts allowed, the first failure is the last.
    result = run_cli("plan", "ts", ".", "--api-url", url, cwd=project,
                     env={"HUD_API_KEY": HUD_API_KEY, "SSL_CERT_FILE": str(cert), "HUD_SYNC_HOOK_MAX_ATTEMPTS": "6"})
    assert result.returncode == 1
    assert f"the TLS certificate of {url} could not be verified" in result.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr and "Traceback" not in result.stderr
    assert _Recorder.requests == []  # the handshake failed: no request, no key on the wire
    slept: list[float] = []
    with HttpPlatform(url, HUD_API_KEY, max_attempts=6, sleep=slept.append) as platform:  # verification stays on
        with pytest.raises(HudSyncError, match="could not be verified"):
            platform.find_taskset("ts")
        assert platform.request_count == 1 and slept == []  # not retried
    assert _Recorder.requests == []


def test_no_code_turns_tls_verification_off():
    sources = list((REPO_ROOT / "hud_sync_hook").rglob("*.py"))
    assert sources
    offenders = [
        str(path.relative_to(REPO_ROOT)) for path in sources
        if re.search(r"verify\s*=\s*False|CERT_NONE|check_hostname\s*=\s*False|_create_unverified_context", path.read_text())
    ]
    assert offenders == []


# -- keys never travel in clear text ------------------------------------------------------------


class _ProxyCounter:
    """A loopback socket standing in for an HTTP proxy: counts who connects, answers 502."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.connections = 0
        self.seen = b""
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    self.seen += conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2)
        self.sock.close()


def test_a_key_is_never_sent_over_plain_http_to_a_remote_host_not_even_through_a_proxy(tmp_path, monkeypatch):
    project = tmp_path / "proj"
    make_repo(project, {"tasks.json": TASKS})
    proxy = _ProxyCounter()
    try:
        proxied = {"HTTP_PROXY": proxy.url, "http_proxy": proxy.url, "NO_PROXY": "", "no_proxy": ""}
        for name, value in proxied.items():
            monkeypatch.setenv(name, value)
        # The control: without a key the client does go out, through the proxy.
        with HttpPlatform("http://hud.example.invalid", None, max_attempts=1) as anonymous:
            with pytest.raises(HudSyncError):
                anonymous.find_taskset("ts")
        assert proxy.connections == 1 and b"hud.example.invalid" in proxy.seen
        for url in ("http://hud.example.invalid", "http://10.1.2.3:8765", "http://[::ffff:10.0.0.1]", "http://127.1"):
            result = run_cli("plan", "ts", ".", "--api-url", url, cwd=project, env={"HUD_API_KEY": HUD_API_KEY})
            assert result.returncode == 1, result.stderr
            assert "refusing to send the API key over plain http://" in result.stderr, result.stderr
        assert proxy.connections == 1 and HUD_API_KEY.encode() not in proxy.seen
    finally:
        proxy.close()


def test_retry_settings_from_the_environment_are_checked():
    assert retry_options_from_env({}) == {}
    assert retry_options_from_env({"HUD_SYNC_HOOK_MAX_ATTEMPTS": "2", "HUD_SYNC_HOOK_BACKOFF_SECONDS": "0.01"}) == {
        "max_attempts": 2, "backoff_base": 0.01,
    }
    for name, value in (("HUD_SYNC_HOOK_MAX_ATTEMPTS", "0"), ("HUD_SYNC_HOOK_MAX_ATTEMPTS", "two"),
                        ("HUD_SYNC_HOOK_BACKOFF_SECONDS", "-1"), ("HUD_SYNC_HOOK_MAX_RETRY_SECONDS", "nan"),
                        ("HUD_SYNC_HOOK_MAX_RETRY_SECONDS", "inf"), ("HUD_SYNC_HOOK_MAX_ATTEMPTS", "1000000")):
        with pytest.raises(HudSyncError, match=name):
            retry_options_from_env({name: value})


# -- serve under abuse --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    with start_serve(tmp_path_factory.mktemp("abuse"), "--api-key", HUD_API_KEY) as server:
        yield server


def _raw(server, data: bytes, read: int = 4096, *, half_close: bool = True, timeout: float = 10) -> bytes:
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(data)
        try:
            if half_close:
                conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = b""
        try:
            while len(chunks) < read:
                part = conn.recv(read)
                if not part:
                    break
                chunks += part
        except (socket.timeout, ConnectionResetError):
            pass
        return chunks


def _status(answer: bytes) -> int:
    match = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    return int(match.group(1)) if match else 0


def test_every_endpoint_answers_401_without_a_valid_key_before_reading_the_body(keyed_server):
    paths = [("GET", "/tasks/evalset/x"), ("POST", "/tasks/resolve-evalset"), ("GET", "/tasks/evalsets/x/tasks-by-id"),
             ("POST", "/tasks/upload"), ("GET", "/registry/envs/x"), ("GET", "/registry/envs"),
             ("GET", "/tasks/environments/x/scenarios"), ("GET", "/no/such/path")]
    with httpx.Client(base_url=keyed_server.url, timeout=10) as client:
        for method, path in paths:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-API-Key": HUD_API_KEY[:-1]},
                            {"Authorization": HUD_API_KEY}):  # no "Bearer ": not a valid header
                answer = client.request(method, path, headers=headers, json={"name": "x", "tasks": []} if method == "POST" else None)
                assert answer.status_code == 401, (method, path, headers)
    # 60 MB announced, nothing sent, the connection kept open for it: the 401 comes without the
    # body (a server waiting for it would never answer, and the read would end empty at its timeout)
    answer = _raw(keyed_server, b"POST /tasks/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 60000000\r\n\r\n",
                  half_close=False, timeout=60)
    assert _status(answer) == 401


def test_the_default_body_limit_is_50_mb_and_malformed_json_is_a_400(keyed_server):
    auth = f"X-API-Key: {HUD_API_KEY}\r\n".encode()
    limit = 50 * 1024 * 1024
    over = _raw(keyed_server, b"POST /tasks/upload HTTP/1.1\r\nHost: x\r\n" + auth + f"Content-Length: {limit + 1}\r\n\r\n".encode())
    assert _status(over) == 413 and b"the limit is 52428800 bytes" in over
    bodies = {
        "not JSON": b"{name: x}",
        "truncated": b'{"name": "x", "tasks": [',
        "invalid UTF-8": b'{"name": "caf\xe9", "tasks": []}',
        "NaN": b'{"name": "x", "tasks": [{"slug": "a", "scenario": "s", "args": {"x": NaN}}]}',
        "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
        "a 5,000-digit number": b'{"name": "x", "tasks": [], "n": ' + b"9" * 5000 + b"}",
        "empty": b"",
        "a list": b"[]",
        "null": b"null",
        "a lone surrogate": b'{"name": "x\\ud800", "tasks": [{"slug": "a\\ud800", "scenario": "s"}]}',
    }
    with httpx.Client(base_url=keyed_server.url, timeout=30, headers={"X-API-Key": HUD_API_KEY}) as client:
        for what, body in bodies.items():
            for path in ("/tasks/upload", "/tasks/resolve-evalset"):
                answer = client.post(path, content=body, headers={"Content-Type": "application/json"})
                assert answer.status_code == 400, (what, path, answer.status_code, answer.text[:200])
                assert isinstance(answer.json()["detail"], str)
        chunked = client.post("/tasks/upload", content=iter([b'{"name": "x", "tasks": []}']))
        assert chunked.status_code == 411
        assert client.get("/health").json() == {"ok": True}
        assert client.get("/tasks/evalset/x").status_code == 404  # nothing was created
    assert keyed_server.proc.poll() is None
    assert "internal error" not in keyed_server.stderr_text()


def test_garbage_on_the_wire_never_takes_the_server_down(keyed_server):
    rng = random.Random(20240601)
    auth = f"X-API-Key: {HUD_API_KEY}\r\n".encode()
    samples = [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(rng.randrange(256) for _ in range(200)),  # a TLS hello
        b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n",
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
        b"POST /tasks/upload HTTP/1.1\r\n" + auth + b"Content-Length: -5\r\n\r\n",
        b"POST /tasks/upload HTTP/1.1\r\n" + auth + b"Content-Length: lots\r\n\r\n",
        b"POST /tasks/upload HTTP/1.1\r\n" + auth + b"Content-Length: 10\r\n\r\n{",  # then the client hangs up
        b"POST /tasks/upload HTTP/1.1\r\n" + auth + b"Content-Length: 5\r\nContent-Length: 9\r\n\r\n{}",
        b"POST /tasks/upload HTTP/1.1\r\n" + auth + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"BREW /pot HTTP/1.1\r\n\r\n",
        b"\r\n\r\n\r\n",
        b"GET /health HTTP/9.9\r\n\r\n",
    ]
    samples += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))) for _ in range(60)]
    samples += [b"GET /%s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (bytes(rng.randrange(33, 127) for _ in range(30)), b"\xff" * 5, auth)
                for _ in range(20)]
    samples += [b"POST /tasks/upload HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s" % (auth, len(body), body)
                for body in (bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) for _ in range(20))]
    for data in samples:
        _raw(keyed_server, data, read=512)
    assert keyed_server.proc.poll() is None
    with httpx.Client(base_url=keyed_server.url, timeout=10) as client:
        assert client.get("/health").json() == {"ok": True}
        assert client.get("/registry/envs", headers={"X-API-Key": HUD_API_KEY}).status_code == 200
    assert "Traceback" not in keyed_server.stderr_text()


# -- links out of the repository ----------------------------------------------------------------


def test_links_inside_the_repository_are_followed_and_links_out_of_it_are_not(tmp_path):
    from hud_sync_hook.discovery import discover

    repo = tmp_path / "repo"
    make_repo(repo, {"data/real.json": TASKS[:1], "suite/helpers.py": "X = 1\n"})
    (tmp_path / "elsewhere.json").write_text(json.dumps(TASKS[1:2]))
    (repo / "suite" / "tasks.json").symlink_to("../data/real.json")
    found = discover(repo / "suite", base=repo)
    assert [t.slug for t in found.tasks] == ["t0"] and found.problems == []
    (repo / "suite" / "tasks.json").unlink()
    (repo / "suite" / "tasks.json").symlink_to(tmp_path / "elsewhere.json")
    found = discover(repo / "suite", base=repo)
    assert found.tasks == [] and [str(p) for p in found.problems] == [
        "suite/tasks.json: is a link to a file outside the repository; refusing to read it "
        "(replace the link with a copy of the file, or pass the file itself as the source)"
    ]
    # Outside a repository (the push hook's export of a commit), the working folder is the bound.
    plain = tmp_path / "export"
    (plain / "data").mkdir(parents=True)
    (plain / "data" / "real.json").write_text(json.dumps(TASKS[:1]))
    (plain / "suite").mkdir()
    (plain / "suite" / "tasks.json").symlink_to("../data/real.json")
    assert [t.slug for t in discover(plain / "suite", base=plain).tasks] == ["t0"]
    assert "outside the project folder" in str(discover(plain / "suite", base=plain / "suite").problems[0])
