from __future__ import annotations

import logging
import re

from .context import current_request_id


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


# A query parameter's value: whatever follows `name=` up to the next separator. Every value
# is redacted, whoever put it there (a client key, a platform's app_key or access_token, a
# bot's key): a log line never needs one.
_QUERY_VALUE = re.compile(r"([?&][^=&\s'\"<>#?]{1,100}=)[^&\s'\"<>#]+")
REDACTED = "[redacted]"


def redact_query(text: str) -> str:
    """`text` with the value of every query parameter of every URL in it replaced."""
    return _QUERY_VALUE.sub(rf"\g<1>{REDACTED}", text) if "=" in text else text


class RedactQueryFilter(logging.Filter):
    """Installed on every handler (and on granian's access log): the message, the request a
    record carries (Django's request logger puts it in `extra`, and a JSON log would write
    its repr, query string and all) and an exception's text leave with query values
    redacted, whatever the logger, the status or the format."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_query(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, str):
            record.request = f"{getattr(request, 'method', '')} {getattr(request, 'path', '')}"
        if record.exc_info:
            record.exc_text = redact_query(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact_query(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_query(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str) and "=" in value:
                setattr(record, name, redact_query(value))
        return True


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
