"""Appends audit events from several threads: `python -m tests.integration.append_events
THREADS PER_THREAD`. Run by the concurrency test as separate processes."""

from __future__ import annotations

import os
import sys
import threading

import django


def main(threads: int, per_thread: int) -> int:
    django.setup()
    from django.db import connection

    from apps.audit.services import Actor, record

    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                record(
                    action="test.concurrent",
                    actor=Actor.system(f"p{os.getpid()}-t{n}"),
                    details={"thread": n, "i": i},
                )
        except BaseException as exc:  # reported below, failing the process
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for exc in errors:
        print(repr(exc), file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
