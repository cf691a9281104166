"""The Celery app for test_celery.py: the worker process imports it by name.
Broker and result backend both point at the server under test
($CELERY_REDIS_URL)."""

import os

from celery import Celery

URL = os.environ.get("CELERY_REDIS_URL", "redis://127.0.0.1:6379/0")

app = Celery("celery_tasks", broker=URL, backend=URL)
app.conf.update(
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    result_expires=60,
    # A result backend that lost its server gives up instead of retrying
    # for minutes (the server under test stops after each test).
    result_backend_transport_options={"retry_policy": {"max_retries": 2}},
)


@app.task
def add(a, b):
    return a + b


@app.task
def fail():
    raise ValueError("boom")
