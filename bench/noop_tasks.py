"""A Celery task that does nothing, for bench/dispatch.py: what a task costs on its own on the same
worker and broker. The worker loads it with `-I bench.noop_tasks`."""

from celery import shared_task


@shared_task(name="bench.noop", ignore_result=True)
def noop() -> None:
    return None
