"""RQ against russet: jobs enqueued with redis-py's RQ, run to completion by
a real `rq worker` process (which waits for work with BLMOVE), and by an
in-process worker; results, failures and registries are read back through
RQ's own API. RQ 2 stores every job result in a stream (XADD
rq:results:<id> MAXLEN ~ n) and waits for one with XREAD BLOCK."""

import os
import subprocess
import sys
import time
from pathlib import Path

import redis
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, FinishedJobRegistry

import rq_jobs
from conftest import make_client

HERE = Path(__file__).resolve().parent
RQ_BIN = Path(sys.executable).with_name("rq")


def _worker_process(server, *args):
    env = dict(os.environ, PYTHONPATH=str(HERE))
    return subprocess.Popen(
        [str(RQ_BIN), "worker", "--url", server.url, "--quiet", *args, "default"],
        cwd=str(HERE),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_enqueue_and_inspect_queue(server):
    r = make_client(server)
    q = Queue("default", connection=r)
    jobs = [q.enqueue(rq_jobs.add, i, 1, job_id=f"job-{i}") for i in range(5)]
    assert q.count == 5
    assert q.job_ids == [f"job-{i}" for i in range(5)]
    fetched = Job.fetch("job-3", connection=r)
    assert fetched.args == (3, 1)
    assert fetched.get_status() == JobStatus.QUEUED
    q.remove(jobs[0])
    assert q.job_ids[0] == "job-1"
    assert Queue.all(connection=r)[0].name == "default"


def test_worker_process_runs_jobs_to_completion(server):
    r = make_client(server)
    q = Queue("default", connection=r)
    ok = q.enqueue(rq_jobs.add, 2, 3)
    bad = q.enqueue(rq_jobs.divide_by_zero)
    assert q.count == 2
    worker = _worker_process(server, "--burst")
    out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, out.decode(errors="replace")

    ok = Job.fetch(ok.id, connection=r)
    assert ok.get_status() == JobStatus.FINISHED
    assert ok.return_value() == 5
    bad = Job.fetch(bad.id, connection=r)
    assert bad.get_status() == JobStatus.FAILED
    assert "ZeroDivisionError" in bad.latest_result().exc_string
    assert ok.id in FinishedJobRegistry(queue=q).get_job_ids()
    assert bad.id in FailedJobRegistry(queue=q).get_job_ids()
    assert q.count == 0


def test_waiting_worker_is_woken_by_enqueue(server):
    r = make_client(server)
    q = Queue("default", connection=r)
    # Not burst: the worker blocks on the empty queue until a job arrives,
    # and exits after that one job.
    worker = _worker_process(server, "--max-jobs", "1")
    try:
        deadline = time.monotonic() + 30
        while r.info("clients")["blocked_clients"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert r.info("clients")["blocked_clients"] >= 1, "worker never blocked"
        job = q.enqueue(rq_jobs.record, "seen", "hello", server.url)
        out, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0, out.decode(errors="replace")
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert r.lrange("seen", 0, -1) == [b"hello"]
    assert Job.fetch(job.id, connection=r).return_value() == "HELLO"


def test_in_process_worker_and_job_metadata(server):
    r = make_client(server)
    q = Queue("default", connection=r)
    jobs = [q.enqueue(rq_jobs.add, i, i, meta={"n": i}) for i in range(10)]
    assert q.job_ids == [j.id for j in jobs]
    SimpleWorker([q], connection=r).work(burst=True)
    for i, j in enumerate(jobs):
        j.refresh()
        assert j.is_finished
        assert j.return_value() == 2 * i
        assert j.meta == {"n": i}
    assert isinstance(r, redis.Redis)
