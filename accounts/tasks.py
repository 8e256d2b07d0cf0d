from celery import shared_task


@shared_task(name="accounts.ping", ignore_result=False)
def ping(*, payload: str = "pong") -> str:
    """Round-trip probe: proves a worker consumes from the broker and can run our code."""
    return payload
