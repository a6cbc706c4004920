"""Requests at the same moment, for the PostgreSQL concurrency tests."""

import threading

from django.db import connection


def run_together(calls, timeout: float = 60) -> list:
    """Run each call in its own thread, all released at once; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=timeout)
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not swallowed
            results[index] = exc
        finally:
            # Each thread has its own connection; close it so the test database can be dropped.
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(index, call), daemon=True)
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a request thread hung"
    return results
