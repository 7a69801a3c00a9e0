"""Small helpers several test modules share."""

from __future__ import annotations

import socket

from django.db import connection


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def all_rows() -> str:
    """Every row of every table, as text: what a search for a leaked value looks through."""
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from introspection
            dump.append(repr(cursor.fetchall()))
    return "\n".join(dump)
