"""Shared fixtures for the Python client tests.

Each test starts its own server process on a free port on 127.0.0.1 with a
fresh temporary --dir, waits until it answers PING, and stops it afterwards.

The server binary is taken from $RUSSET_SERVER_BIN (default:
<repo>/target/release/russet-server), so the suite can be validated against
the real redis-server:  RUSSET_SERVER_BIN=/usr/bin/redis-server pytest tests/python

If $RUSSET_MONITOR_LOG is set to a file path, a `redis-cli monitor` is attached
to every server and its output appended there (used to list the commands the
client libraries send; note the extra client shows up in CLIENT LIST).
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_BIN = os.environ.get(
    "RUSSET_SERVER_BIN", str(REPO_ROOT / "target" / "release" / "russet-server")
)
START_TIMEOUT = 10.0  # seconds to wait for the first PONG
STOP_TIMEOUT = 5.0  # seconds to wait after SIGTERM before SIGKILL

# Parser/protocol combinations for redis-py (names from redis-py 5.2.x).
PARSERS = [
    pytest.param((2, redis.connection._RESP2Parser), id="resp2-python"),
    pytest.param((2, redis.connection._HiredisParser), id="resp2-hiredis"),
    pytest.param((3, redis.connection._RESP3Parser), id="resp3-python"),
    pytest.param((3, redis.connection._HiredisParser), id="resp3-hiredis"),
]
ASYNC_PARSERS = [
    pytest.param((2, redis.asyncio.connection._AsyncRESP2Parser), id="resp2-python"),
    pytest.param((2, redis.asyncio.connection._AsyncHiredisParser), id="resp2-hiredis"),
    pytest.param((3, redis.asyncio.connection._AsyncRESP3Parser), id="resp3-python"),
    pytest.param((3, redis.asyncio.connection._AsyncHiredisParser), id="resp3-hiredis"),
]


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _raw_ping(port, timeout=0.5):
    """Send a RESP PING over a plain socket; True when the reply is +PONG."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            data = b""
            deadline = time.monotonic() + timeout
            while not data.endswith(b"\r\n") and time.monotonic() < deadline:
                chunk = s.recv(64)
                if not chunk:
                    break
                data += chunk
            return data == b"+PONG\r\n"
    except OSError:
        return False


class ServerProcess:
    def __init__(self, port, workdir, proc, logpath):
        self.host = "127.0.0.1"
        self.port = port
        self.dir = workdir
        self.proc = proc
        self.logpath = logpath
        self.monitor = None

    @property
    def url(self):
        return f"redis://{self.host}:{self.port}"

    def log(self):
        try:
            return Path(self.logpath).read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.monitor is not None and self.monitor.poll() is None:
            self.monitor.terminate()
            try:
                self.monitor.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.monitor.kill()
                self.monitor.wait(timeout=STOP_TIMEOUT)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)


def start_server(extra_args=(), binary=SERVER_BIN):
    if not os.path.exists(binary):
        pytest.fail(f"server binary not found: {binary} (set RUSSET_SERVER_BIN)")
    workdir = tempfile.mkdtemp(prefix="russet-pytest-")
    logpath = os.path.join(workdir, "server.log")
    last_err = ""
    for _attempt in range(3):  # retry if another process grabbed the port
        port = _free_port()
        args = [
            binary,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", workdir,
            *extra_args,
        ]
        with open(logpath, "ab") as logf:
            proc = subprocess.Popen(
                args, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        server = ServerProcess(port, workdir, proc, logpath)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if _raw_ping(port):
                return server
            time.sleep(0.05)
        last_err = server.log()
        server.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    pytest.fail(f"server did not answer PING within {START_TIMEOUT}s:\n{last_err}")


def _attach_monitor(server, logfile):
    cli = shutil.which("redis-cli")
    if cli is None:
        return
    out = open(logfile, "ab")
    mon = subprocess.Popen(
        [cli, "-h", server.host, "-p", str(server.port), "monitor"],
        stdout=out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )
    out.close()
    server.monitor = mon
    # Wait (bounded) until the MONITOR client is registered.
    r = redis.Redis(host=server.host, port=server.port)
    try:
        for _ in range(100):
            if b"cmd=monitor" in r.execute_command("CLIENT", "LIST", NEVER_DECODE=True):
                break
            time.sleep(0.02)
    finally:
        r.close()


def make_client(server, protocol=2, parser=redis.connection._RESP2Parser, **kwargs):
    """redis.Redis whose pool uses the given RESP protocol and parser class."""
    pool = redis.ConnectionPool(
        host=server.host, port=server.port, protocol=protocol, parser_class=parser,
        socket_timeout=10, **kwargs,
    )
    return redis.Redis(connection_pool=pool, protocol=protocol)


def make_async_client(server, protocol=2, parser=redis.asyncio.connection._AsyncRESP2Parser, **kwargs):
    pool = redis.asyncio.ConnectionPool(
        host=server.host, port=server.port, protocol=protocol, parser_class=parser,
        socket_timeout=10, **kwargs,
    )
    return redis.asyncio.Redis(connection_pool=pool, protocol=protocol)


@pytest.fixture
def server():
    """A fresh server process for this test only."""
    srv = start_server()
    monitor_log = os.environ.get("RUSSET_MONITOR_LOG")
    if monitor_log:
        _attach_monitor(srv, monitor_log)
    try:
        yield srv
    finally:
        crashed = srv.proc.poll() is not None
        log = srv.log() if crashed else ""
        srv.stop()
        shutil.rmtree(srv.dir, ignore_errors=True)
        if crashed:
            pytest.fail(f"server process exited during the test (rc={srv.proc.returncode}):\n{log}")


@pytest.fixture
def raw(server):
    """Plain RESP2 redis-py client (pure-Python parser) for setup/inspection."""
    r = make_client(server)
    yield r
    r.close()
    r.connection_pool.disconnect()


@pytest.fixture(params=PARSERS)
def r(request, server):
    """redis-py sync client, parametrized over RESP2/RESP3 x python/hiredis parser."""
    protocol, parser = request.param
    client = make_client(server, protocol, parser)
    yield client
    client.close()
    client.connection_pool.disconnect()


# --------------------------------------------------------------------------
# Django
# --------------------------------------------------------------------------

DJANGO_BACKENDS = {
    # Django's built-in backend (django>=4.0)
    "django": "django.core.cache.backends.redis.RedisCache",
    # django-redis
    "django_redis": "django_redis.cache.RedisCache",
}


def _configure_django():
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            SECRET_KEY="russet-tests-not-secret",
            INSTALLED_APPS=["django.contrib.sessions"],
            DATABASES={},
            USE_TZ=True,
            CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}},
            SESSION_ENGINE="django.contrib.sessions.backends.cache",
            SESSION_CACHE_ALIAS="default",
        )
        django.setup()


def django_cache_settings(server, backend, **options):
    """A CACHES setting pointing the default cache at this test's server."""
    conf = {
        "BACKEND": DJANGO_BACKENDS[backend],
        "LOCATION": f"redis://{server.host}:{server.port}/0",
        "TIMEOUT": 300,
    }
    if options:
        conf["OPTIONS"] = options
    return {"default": conf}


@pytest.fixture
def django_cache_factory(server):
    """Returns a function backend_name -> django cache object bound to this
    test's server (via override_settings on CACHES); cleans up afterwards."""
    _configure_django()
    from django.core.cache import caches
    from django.test import override_settings

    overrides = []

    def make(backend, **options):
        ov = override_settings(CACHES=django_cache_settings(server, backend, **options))
        ov.enable()
        overrides.append(ov)
        return caches["default"]

    yield make
    from django.core.cache import close_caches

    close_caches()
    for ov in reversed(overrides):
        ov.disable()
