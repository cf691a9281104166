"""A work queue the way Python services build one on Redis lists: producers
LPUSH jobs, consumer threads BLPOP them (with a timeout, so they can stop),
and a reliable variant moves jobs to a processing list with BLMOVE.
Every job must be processed exactly once."""

import threading
import time

import redis

from conftest import PARSERS, make_client

import pytest


@pytest.mark.parametrize("proto", PARSERS)
def test_blpop_consumers_in_threads_process_every_job_once(server, proto):
    protocol, parser = proto
    producer = make_client(server, protocol, parser)
    jobs = [f"job-{i}" for i in range(600)]
    results = []
    lock = threading.Lock()
    stop = threading.Event()

    def consume():
        r = make_client(server, protocol, parser)
        while True:
            item = r.blpop(["jobs:high", "jobs:low"], timeout=0.2)
            if item is None:
                if stop.is_set():
                    return
                continue
            queue, job = item
            with lock:
                results.append((queue.decode(), job.decode()))

    consumers = [threading.Thread(target=consume) for _ in range(4)]
    for t in consumers:
        t.start()
    # Give the consumers time to block on the empty queues first.
    time.sleep(0.3)
    for i, job in enumerate(jobs):
        producer.rpush("jobs:high" if i % 3 == 0 else "jobs:low", job)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with lock:
            if len(results) == len(jobs):
                break
        time.sleep(0.05)
    stop.set()
    for t in consumers:
        t.join(timeout=10)
    assert sorted(j for _, j in results) == sorted(jobs)
    assert all(q == ("jobs:high" if int(j[4:]) % 3 == 0 else "jobs:low") for q, j in results)
    assert producer.llen("jobs:high") == 0 and producer.llen("jobs:low") == 0


def test_blocked_consumer_is_woken_by_a_push(server):
    r = make_client(server)
    got = {}

    def consume():
        c = make_client(server)
        start = time.monotonic()
        got["item"] = c.brpop("wake", timeout=5)
        got["waited"] = time.monotonic() - start

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.3)
    assert r.lpush("wake", "hello") == 1
    t.join(timeout=5)
    assert got["item"] == (b"wake", b"hello")
    assert 0.2 < got["waited"] < 4


def test_blpop_timeout_returns_none(server):
    r = make_client(server)
    start = time.monotonic()
    assert r.blpop("nothing", timeout=0.3) is None
    assert 0.25 < time.monotonic() - start < 3


def test_reliable_queue_with_blmove(server):
    r = make_client(server)
    for i in range(5):
        r.rpush("pending", f"task{i}")
    done = []
    while True:
        task = r.blmove("pending", "processing", timeout=0.1, src="LEFT", dest="RIGHT")
        if task is None:
            break
        # The task is safe in "processing" until acknowledged.
        assert r.lpos("processing", task) is not None
        done.append(task.decode())
        assert r.lrem("processing", 1, task) == 1
    assert done == [f"task{i}" for i in range(5)]
    assert r.exists("pending", "processing") == 0


def test_bzpopmin_priority_queue(server):
    r = make_client(server)
    result = {}

    def worker():
        c = make_client(server)
        result["first"] = c.bzpopmin("prio", timeout=5)

    t = threading.Thread(target=worker)
    t.start()
    time.sleep(0.3)
    r.zadd("prio", {"low": 10, "urgent": 1, "normal": 5})
    t.join(timeout=5)
    assert result["first"] == (b"prio", b"urgent", 1.0)
    assert r.zrange("prio", 0, -1) == [b"normal", b"low"]


def _wait_blocked(r, n):
    deadline = time.monotonic() + 5
    while r.info("clients")["blocked_clients"] != n and time.monotonic() < deadline:
        time.sleep(0.02)
    assert r.info("clients")["blocked_clients"] == n


def test_client_unblock_releases_a_waiting_consumer(server):
    r = make_client(server)
    waiting = make_client(server)
    cid = waiting.client_id()
    out = {}

    def consume():
        try:
            out["item"] = waiting.blpop("never", timeout=0)
        except redis.ResponseError as e:
            out["error"] = str(e)

    t = threading.Thread(target=consume)
    t.start()
    _wait_blocked(r, 1)
    assert r.client_unblock(cid) is True
    t.join(timeout=5)
    assert out == {"item": None}

    out.clear()
    t = threading.Thread(target=consume)
    t.start()
    _wait_blocked(r, 1)
    assert r.client_unblock(cid, error=True) is True
    t.join(timeout=5)
    assert out == {"error": "UNBLOCKED client unblocked via CLIENT UNBLOCK"}
    assert r.client_unblock(cid) is False
