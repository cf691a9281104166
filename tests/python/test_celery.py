"""Celery with russet as both broker (kombu's Redis transport: LPUSH/BRPOP
queues, pub/sub fan-out) and result backend (results published on a channel
per task and stored with SETEX): a real `celery worker` process runs tasks
sent from the test."""

import gc
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CELERY_BIN = Path(sys.executable).with_name("celery")


@pytest.fixture
def worker(server):
    url = f"redis://{server.host}:{server.port}/0"
    os.environ["CELERY_REDIS_URL"] = url
    env = dict(os.environ, PYTHONPATH=str(HERE))
    proc = subprocess.Popen(
        [str(CELERY_BIN), "-A", "celery_tasks", "worker", "--pool=solo",
         "--concurrency=1", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-l", "warning"],
        cwd=str(HERE), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    import celery_tasks

    celery_tasks.app.conf.broker_url = url
    celery_tasks.app.conf.result_backend = url
    yield celery_tasks
    # AsyncResults caught in reference cycles (pytest.raises keeps the
    # traceback) unsubscribe from their result channel when collected; do it
    # now, while the server is up, not in a later test where a retrying
    # __del__ would swallow pytest-timeout's exception and hang the run.
    gc.collect()
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    print(out.decode(errors="replace"))


# One test: the app's producer pool keeps the first server's address.
def test_task_round_trip_and_failure(worker):
    result = worker.add.delay(2, 3)
    assert result.get(timeout=10) == 5
    assert result.successful()
    results = [worker.add.delay(i, i) for i in range(10)]
    assert [r.get(timeout=20) for r in results] == [2 * i for i in range(10)]
    failed = worker.fail.delay()
    with pytest.raises(ValueError, match="boom"):
        failed.get(timeout=20)
    assert failed.failed()
