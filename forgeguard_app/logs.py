"""Logging: text or JSON lines, the delivery and job ids on every line about them, secrets redacted."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
from typing import Any, TextIO

delivery_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("delivery_id", default=None)
job_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("job_id", default=None)

REDACTED = "[REDACTED]"

# Anything that looks like a credential: GitHub token prefixes, JWTs, and the
# value after an `Authorization`-style `token`/`Bearer` word.
TOKEN_PATTERNS = [
    re.compile(r"\b(?:ghs|ghp|gho|ghu|ghr)_[A-Za-z0-9_]{8,}"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
    re.compile(r"(?i)\b(token|bearer)(\s+|=|:\s*)(?!\[REDACTED\])[A-Za-z0-9_\-.=/+]{8,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S),
]


def redact(text: str) -> str:
    """`text` with every token-like string replaced by [REDACTED]."""
    for pattern in TOKEN_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in) and exception text with secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class ContextFilter(logging.Filter):
    """Copies the current delivery and job ids onto the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.delivery_id = delivery_id_var.get()
        record.job_id = job_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("delivery_id", "job_id"):
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger [delivery=… job=…] message`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        parts = []
        delivery_id = getattr(record, "delivery_id", None)
        job_id = getattr(record, "job_id", None)
        if delivery_id:
            parts.append(f"delivery={delivery_id}")
        if job_id:
            parts.append(f"job={job_id}")
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return super().format(record)


def make_handler(log_format: str, stream: TextIO | None = None) -> logging.Handler:
    """A stream handler with the context and redaction filters and the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


def configure(level: str = "info", log_format: str = "text", stream: TextIO | None = None) -> None:
    """Route every logger through one handler on the root logger."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(make_handler(log_format, stream))
    root.setLevel(level.upper())
    # aiohttp's access log is one line per request, pgserver narrates every
    # pg_ctl call over many lines: both at warning unless debugging.
    for name in ("aiohttp.access", "pgserver"):
        logging.getLogger(name).setLevel("DEBUG" if level == "debug" else "WARNING")
