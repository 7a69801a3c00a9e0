"""Benchmark settings: the test settings plus a bare JSON view to compare against."""

from __future__ import annotations

import os

os.environ.setdefault("LOG_LEVEL", "WARNING")

from tests.settings import *  # noqa: E402,F403

ROOT_URLCONF = "tests.benchmarks.urls"
