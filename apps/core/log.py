from __future__ import annotations

import logging

from apps.audit.context import current_request_id


def install_request_id_record_factory() -> None:
    """Every log record gets `request_id` (the id of the request being served, or "-"),
    whichever handler or library emits it, so JSON and text logs can always show it."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_request_id() or "-"
        return record

    factory.adds_request_id = True
    logging.setLogRecordFactory(factory)
