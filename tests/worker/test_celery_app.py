from __future__ import annotations

from partlens.config import Settings
from worker.celery_app import create_celery


def test_long_task_settings(tmp_path, redis_url):
    app = create_celery(Settings(data_dir=tmp_path, broker_url=redis_url))
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_default_queue == "partlens"


def test_falls_back_to_sqlite_when_redis_is_silent(tmp_path):
    app = create_celery(Settings(data_dir=tmp_path, broker_url="redis://127.0.0.1:1/0"))
    assert str(app.conf.broker_url).startswith("sqla+sqlite:///")


def test_the_task_is_registered_under_the_name_the_api_sends():
    from partlens.runs.broker import RUN_TASK
    from worker.celery_app import app
    from worker.tasks import execute_run_task

    assert execute_run_task.name == RUN_TASK
    assert RUN_TASK in app.tasks
