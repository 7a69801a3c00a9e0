"""Hand-out counts for the token API without a network round trip per request.

Each process counts its hand-outs in a small memory-mapped file of its own (on /dev/shm by
default), one slot per client key, credential and minute: a count is two memory writes and
survives the process, however it ends. A thread of the process adds the counts to Redis
every FLUSH_INTERVAL; the counters there are the ones the per-minute audit task moves into
HandoutCount rows. A file whose process has died (its lock is free, which the kernel sees to
even after SIGKILL) is flushed by the next process on the host that looks, then deleted.

Flushing is idempotent: a Lua script adds only what the slot holds beyond what Redis already
recorded for it, so a flush repeated after a crash, or by two adopters at once, adds nothing
twice.

No count is freed before it is durable: a slot of a finished minute is kept until the audit
task has moved that minute into the database (it marks the minute moved in Redis), and
until then the slot is sent again every RESEND_INTERVAL. The script adds nothing while Redis
has it; if Redis restarted empty, the slot's marker is gone and the whole count goes back.

The same flush returns the key's request count in the current rate window, which the API
compares, together with what this process has not flushed yet, against the per-key limit:
across processes a key can exceed its limit by what they counted in one FLUSH_INTERVAL.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import mmap
import multiprocessing.util
import os
import secrets
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

SLOT = struct.Struct("<IIII")  # client key id, credential id, minute, count
SLOTS = 16384  # distinct (client key, credential, minute) a process counts in ~2 minutes
FLUSH_INTERVAL = 0.1  # defaults; settings.TOKEN_LEDGER_FLUSH_SECONDS / _RESEND_SECONDS
ADOPT_INTERVAL = 5.0
RESEND_INTERVAL = 2.0
MARKER_TTL = 7200

# KEYS: the slot's marker (what Redis holds of it), hand-out counter, rate window. ARGV: the
# slot's count. Adds the difference (negative when a counted request got no token after
# all); returns the window's requests.
FLUSH_SCRIPT = """
local delta = tonumber(ARGV[1]) - tonumber(redis.call('GET', KEYS[1]) or '0')
if delta ~= 0 then
  redis.call('INCRBY', KEYS[2], delta)
  redis.call('EXPIRE', KEYS[2], 7200)
  redis.call('INCRBY', KEYS[3], delta)
  redis.call('EXPIRE', KEYS[3], 61)
  redis.call('SET', KEYS[1], ARGV[1], 'EX', 7200)
end
return tonumber(redis.call('GET', KEYS[3]) or '0')
"""


class Ledger:
    def __init__(
        self,
        directory: Path,
        *,
        client: Callable[[], object],
        keys: Callable[[str, int, int, int], tuple[str, str, str]],
        moved_key: Callable[[int], str] | None = None,
        on_flushed: Callable[[int, int, int], None] = lambda key, credential, n: None,
        flush_interval: float = FLUSH_INTERVAL,
        resend_interval: float = RESEND_INTERVAL,
    ):
        self._dir = directory
        self.flush_interval, self.resend_interval = flush_interval, resend_interval
        self._on_flushed = on_flushed  # (client key id, credential id, hand-outs) once in Redis
        self._client = client  # a redis-py client for the cache's Redis
        self._keys = keys  # (file, key id, credential id, minute) -> the script's KEYS
        self._moved_key = moved_key  # minute -> the key the audit task sets once it moved it
        self._resent = 0.0
        self._lock = threading.Lock()  # the counts
        self._flushing = threading.Lock()  # one flush at a time
        self._pid = 0
        self._file = self._map = self._name = None
        self._wake = threading.Event()

    # -- the process's own file -------------------------------------------------------------
    def _start(self) -> None:
        """First use in this process (or in a forked child): a file, a lock, a thread."""
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._name = f"{os.getpid()}-{secrets.token_hex(4)}.ledger"
        self._file = open(self._dir / self._name, "w+b")  # noqa: SIM115 (kept open)
        fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._file.truncate(SLOT.size * SLOTS)
        self._map = mmap.mmap(self._file.fileno(), SLOT.size * SLOTS)
        self._slots: dict[tuple[int, int, int], int] = {}
        self._counts: list[int] = [0] * SLOTS
        self._flushed: list[int] = [0] * SLOTS
        self._free = list(range(SLOTS - 1, -1, -1))
        self._windows: dict[int, tuple[int, int]] = {}  # key id -> (minute, requests)
        self._unflushed: dict[tuple[int, int], int] = {}  # (key id, minute) -> requests
        self._pid = os.getpid()
        threading.Thread(target=self._run, name="token-ledger", daemon=True).start()
        atexit.register(self.close)  # a process that exits through Python
        # A multiprocessing child (granian's workers) ends with os._exit after these:
        multiprocessing.util.Finalize(None, self.close, exitpriority=10)

    def count(self, client_key_id: int, credential_id: int, minute: int, by: int = 1) -> None:
        """Count a hand-out (`by=-1` takes back one counted in the same request)."""
        with self._lock:
            if self._pid != os.getpid():
                self._start()
            slot = self._slots.get((client_key_id, credential_id, minute))
            if slot is None:
                if not self._free:
                    raise RuntimeError("token ledger full: raise SLOTS")
                slot = self._slots[(client_key_id, credential_id, minute)] = self._free.pop()
                SLOT.pack_into(self._map, slot * SLOT.size, client_key_id, credential_id, minute, 0)
            self._counts[slot] += by
            struct.pack_into("<I", self._map, slot * SLOT.size + 12, self._counts[slot])
            window = (client_key_id, minute)
            self._unflushed[window] = self._unflushed.get(window, 0) + by

    def requests(self, client_key_id: int, minute: int) -> int:
        """The key's requests in `minute`: Redis's count at the last flush plus what this
        process counted since."""
        if self._pid != os.getpid():
            return 0  # nothing counted in this process yet
        with self._lock:
            seen_minute, seen = self._windows.get(client_key_id, (minute, 0))
            return (seen if seen_minute == minute else 0) + self._unflushed.get(
                (client_key_id, minute), 0
            )

    # -- flushing ---------------------------------------------------------------------------
    def _run(self) -> None:
        adopted = 0.0
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
                if time.monotonic() - adopted > ADOPT_INTERVAL:
                    adopted = time.monotonic()
                    self.adopt()
            except Exception:  # Redis away: the counts stay in the file for the next try
                logger.exception("token hand-out counts could not be flushed")
                time.sleep(1)

    def flush(self) -> None:
        """Add this process's new counts to Redis; free the slots of finished minutes."""
        if self._pid != os.getpid():
            return
        with self._flushing:
            self._flush()

    def _flush(self) -> None:
        resend = time.monotonic() - self._resent >= self.resend_interval
        with self._lock:
            due = [
                (key, slot, self._counts[slot])
                for key, slot in self._slots.items()
                if self._counts[slot] != self._flushed[slot] or (resend and self._counts[slot])
            ]
        if resend:
            self._resent = time.monotonic()
        if due:
            windows = self._send(self._name, [(*key, count) for key, _, count in due])
            with self._lock:
                for ((key_id, credential_id, minute), slot, count), window in zip(
                    due, windows, strict=True
                ):
                    pending = (key_id, minute)
                    if count > self._flushed[slot]:
                        self._on_flushed(key_id, credential_id, count - self._flushed[slot])
                    if count != self._flushed[slot]:  # a resent slot has nothing pending
                        self._unflushed[pending] -= count - self._flushed[slot]
                        if not self._unflushed[pending]:
                            del self._unflushed[pending]
                    self._flushed[slot] = count
                    self._windows[key_id] = (minute, window)
        if resend:  # a Redis look-up: at the resend pace, not every flush
            self._free_finished()

    def _free_finished(self) -> None:
        done = int(time.time() // 60) - 1
        with self._lock:
            finished = {
                key[2]
                for key, slot in self._slots.items()
                if key[2] < done and self._counts[slot] == self._flushed[slot]
            }
        moved = self._moved(sorted(finished)) if finished else set()
        with self._lock:
            for key, slot in list(self._slots.items()):
                if key[2] in moved and self._counts[slot] == self._flushed[slot]:
                    del self._slots[key]
                    SLOT.pack_into(self._map, slot * SLOT.size, 0, 0, 0, 0)
                    self._counts[slot] = self._flushed[slot] = 0
                    self._free.append(slot)

    def _moved(self, minutes: list[int]) -> set[int]:
        """The minutes the audit task has moved into the database (durable: free them)."""
        if self._moved_key is None:
            return set(minutes)
        marks = self._client().mget([self._moved_key(m) for m in minutes])
        return {m for m, mark in zip(minutes, marks, strict=True) if mark is not None}

    def _send(self, name: str, rows: list[tuple[int, int, int, int]]) -> list[int]:
        client = self._client()
        script = client.register_script(FLUSH_SCRIPT)
        with client.pipeline(transaction=False) as pipe:
            for key_id, credential_id, minute, count in rows:
                script(
                    keys=self._keys(name, key_id, credential_id, minute), args=[count], client=pipe
                )
            return [int(n) for n in pipe.execute()]

    def adopt(self) -> int:
        """Flush and delete the files of processes that died; how many were taken."""
        taken = 0
        for path in self._dir.glob("*.ledger"):
            if path.name == self._name:
                continue
            with contextlib.suppress(FileNotFoundError), open(path, "r+b") as file:
                try:
                    fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its process is alive
                data = file.read()
                rows = [
                    row
                    for row in SLOT.iter_unpack(data[: len(data) - len(data) % SLOT.size])
                    if row[3]
                ]
                if rows:
                    self._send(path.name, rows)
                path.unlink()
                taken += 1
        return taken

    def close(self) -> None:
        """At exit: a last flush; the file goes only if it succeeded (else it is adopted)."""
        if self._pid != os.getpid():
            return
        try:
            self.flush()
        except Exception:
            logger.exception("token hand-out counts left for adoption in %s", self._name)
            return
        with self._lock:
            if any(self._counts[s] != self._flushed[s] for s in self._slots.values()):
                return
            (self._dir / self._name).unlink(missing_ok=True)
            self._pid = 0
