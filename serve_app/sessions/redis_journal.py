"""Durable session journal in Redis (the cluster backend, chosen by ``REDIS_URL``).

Same contract as :class:`~serve_app.sessions.disk_journal.DiskJournal` (one conformance suite runs
against both).  Keys, under a prefix (``scribe:`` by default)::

    ev:<sid>      list of framed events (:mod:`.frames`: one bad record is skipped and reported)
    last:<sid>    id of the last event appended (the fence of a retried append)
    names:<sid>   placeholder -> real value (PHI, sealed)
    catalog       hash: session id -> catalog entry (:mod:`.catalog`; no PHI)
    catalog:v1    present once the catalog exists (older data is rebuilt from the events)

Audio and raw text blobs live on a shared root (:class:`~serve_app.fsroot.FsRoot`: a path every
node mounts, or an object store), sealed, so a store restarted on another node finds them.

Durability: the server must run with ``appendonly yes`` and ``appendfsync always`` (checked at
connect; a warning names what is risked otherwise): Redis then fsyncs its AOF before it replies,
so an acknowledged append is on disk.  An append is one Lua script that writes the event only if
the session's last id is the one before it, so a retry after a lost reply cannot write it twice.
Redis unreachable is :class:`~serve_app.errors.Overloaded` (503 + Retry-After, and not a chunk's
own fault); Redis out of memory is :class:`~serve_app.errors.StorageFull` (507).
"""
from __future__ import annotations

import contextlib
import json
import logging
import posixpath
import time
from typing import Any

import redis

from serve_app.errors import Overloaded, StorageFull
from serve_app.fsroot import FsRoot
from serve_app.sealing import Sealer
from serve_app.sessions.frames import frame, read_frames

__all__ = ["RedisJournal"]

log = logging.getLogger("scribe.journal")

# KEYS: events list, last-id key; ARGV: expected previous id, new id, framed record.
# Returns the session's last id after the call (== new id: appended now or by an earlier try).
_APPEND = """
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
if last == tonumber(ARGV[1]) then
  redis.call('RPUSH', KEYS[1], ARGV[3])
  redis.call('SET', KEYS[2], ARGV[2])
  return tonumber(ARGV[2])
end
return last
"""


@contextlib.contextmanager
def _redis_errors():
    """Redis down or out of memory becomes a typed 503 / 507 (never a 500, never acknowledged)."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError):
        raise Overloaded("The session store's database is unreachable; nothing was stored. Try again shortly.",
                         code="store_unavailable", retry_after=2) from None
    except redis.ResponseError as exc:
        if str(exc).startswith(("OOM", "MISCONF")):
            raise StorageFull("The session database is full; nothing was stored. Try again later.") from None
        raise


class RedisJournal:
    """Per-session event lists, names and the catalog in Redis; blobs on a shared :class:`FsRoot`.

    Args:
        client: a ``redis.Redis`` (bytes responses).
        blob_root: path or ``pyarrow.fs`` URI of the blob root.
        sealer: encrypts PHI (names, blobs) at rest; None only in tests.
        prefix: key prefix (several deployments can share one server).
    """

    def __init__(self, client: redis.Redis, blob_root: str, sealer: Sealer | None = None, prefix: str = "scribe:"):
        self.r = client
        self.blobs = FsRoot(blob_root)
        self._sealer = sealer
        self._p = prefix
        self._append_script = client.register_script(_APPEND)
        self._free: tuple[float, int] | None = None  # (when asked, bytes free)

    @classmethod
    def from_url(cls, url: str, blob_root: str, sealer: Sealer | None = None, prefix: str = "scribe:"):
        """Connect (with retries on connection errors) and check the server's durability settings."""
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30,
                                      retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
                                      retry_on_error=[redis.ConnectionError, redis.TimeoutError])
        journal = cls(client, blob_root, sealer, prefix)
        journal.check_durability()
        return journal

    def check_durability(self) -> dict[str, str]:
        """The server's AOF settings; logs a warning if acknowledged writes could be lost."""
        try:
            config = {k: v for k, v in self.r.config_get("append*").items()}
        except redis.ResponseError:  # CONFIG disabled (a managed server): say so, carry on
            log.warning("journal: cannot read the Redis persistence settings; make sure appendfsync is 'always'")
            return {}
        config = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                  for k, v in config.items()}
        if config.get("appendonly") != "yes" or config.get("appendfsync") != "always":
            log.warning("journal: Redis runs with appendonly=%s appendfsync=%s: acknowledged writes can be lost "
                        "on a crash (set appendonly yes, appendfsync always)",
                        config.get("appendonly"), config.get("appendfsync"))
        return config

    def _k(self, kind: str, sid: str = "") -> str:
        if sid and ("/" in sid or sid.startswith(".")):
            raise ValueError("bad session id")
        return f"{self._p}{kind}:{sid}" if sid else f"{self._p}{kind}"

    def _seal(self, data: bytes, place: str) -> bytes:
        return self._sealer.seal(data, place) if self._sealer else data

    def _open(self, data: bytes, place: str) -> bytes:
        return self._sealer.open(data, place) if self._sealer else data

    # -- capacity -------------------------------------------------------------------------
    def free_bytes(self) -> int:
        """Headroom for new data: the smaller of Redis's ``maxmemory`` headroom and the blob root's free
        space (each only where it has a limit); asked at most once a second (every write checks it)."""
        now = time.monotonic()
        if self._free is None or now - self._free[0] > 1.0:
            self._free = (now, self._ask_free_bytes())
        return self._free[1]

    def _ask_free_bytes(self) -> int:
        with _redis_errors():
            info = self.r.info("memory")
        limits = [int(info["maxmemory"]) - int(info["used_memory"])] if int(info.get("maxmemory", 0)) else []
        if (free := self.blobs.free_bytes()) is not None:
            limits.append(free)
        return min(limits) if limits else 1 << 62

    # -- catalog --------------------------------------------------------------------------
    def load_catalog(self) -> dict[str, dict[str, Any]] | None:
        with _redis_errors():
            if not self.r.exists(self._k("catalog:v1")):
                return None
            raw = self.r.hgetall(self._k("catalog"))
        return {sid.decode(): json.loads(entry) for sid, entry in raw.items()}

    def write_catalog(self, entries: dict[str, dict[str, Any]]) -> None:
        with _redis_errors():
            pipe = self.r.pipeline(transaction=True)
            pipe.delete(self._k("catalog"))
            if entries:
                pipe.hset(self._k("catalog"), mapping={s: json.dumps(e) for s, e in entries.items()})
            pipe.set(self._k("catalog:v1"), "1")
            pipe.execute()

    def put_entry(self, sid: str, entry: dict[str, Any] | None) -> None:
        with _redis_errors():
            if entry is None:
                self.r.hdel(self._k("catalog"), sid)
            else:
                pipe = self.r.pipeline(transaction=True)
                pipe.hset(self._k("catalog"), sid, json.dumps(entry))
                pipe.set(self._k("catalog:v1"), "1")
                pipe.execute()

    # -- events ---------------------------------------------------------------------------
    def session_ids(self) -> list[str]:
        with _redis_errors():
            keys = list(self.r.scan_iter(match=self._k("ev", "*"), count=1000))
        start = len(self._k("ev", "x")) - 1
        return sorted(k.decode()[start:] for k in keys)

    def load_events(self, sid: str) -> list[dict[str, Any]]:
        """Events in order; a damaged record is skipped and reported."""
        with _redis_errors():
            raw = self.r.lrange(self._k("ev", sid), 0, -1)
        events, _, bad = read_frames(b"".join(raw))
        if bad:
            log.warning("journal: %d damaged record(s) skipped in one session", bad)
        return events

    def append(self, sid: str, event: dict[str, Any]) -> None:
        """Append one event (acknowledged by Redis after its AOF fsync); a retry is a no-op."""
        with _redis_errors():
            last = self._append_script(keys=[self._k("ev", sid), self._k("last", sid)],
                                       args=[event["id"] - 1, event["id"], frame(event)])
        if int(last) != event["id"]:
            raise RuntimeError(f"journal: append out of order (last id {last}, appending {event['id']})")

    def rewrite_events(self, sid: str, events: list[dict[str, Any]]) -> None:
        """Replace the session's event list atomically (compaction, retention)."""
        with _redis_errors():
            pipe = self.r.pipeline(transaction=True)
            pipe.delete(self._k("ev", sid))
            if events:
                pipe.rpush(self._k("ev", sid), *[frame(e) for e in events])
            pipe.execute()

    # -- names and blobs ------------------------------------------------------------------
    def load_names(self, sid: str) -> dict[str, str]:
        with _redis_errors():
            raw = self.r.get(self._k("names", sid))
        return json.loads(self._open(raw, f"{sid}/names.json")) if raw else {}

    def save_names(self, sid: str, names: dict[str, str]) -> None:
        data = json.dumps(names, ensure_ascii=False).encode()
        with _redis_errors():
            self.r.set(self._k("names", sid), self._seal(data, f"{sid}/names.json"))

    def _blob(self, sid: str, name: str) -> str:
        self._k("ev", sid)  # validates the id
        if "/" in name or name.startswith((".", "_")):
            raise ValueError("bad blob name")
        return posixpath.join(sid, name)

    def put_blob(self, sid: str, name: str, data: bytes) -> None:
        try:
            self.blobs.write_bytes(self._blob(sid, name), self._seal(data, f"{sid}/blobs/{name}"))
        except OSError as exc:
            if "No space" in str(exc) or getattr(exc, "errno", None) == 28:
                raise StorageFull("The server's storage is full; nothing was stored. Try again later.") from None
            raise

    def get_blob(self, sid: str, name: str) -> bytes:
        return self._open(self.blobs.read_bytes(self._blob(sid, name)), f"{sid}/blobs/{name}")

    def delete_blobs(self, sid: str, prefixes: tuple[str, ...]) -> int:
        doomed = [n for n in self.blobs.list(sid) if n.startswith(prefixes)]
        for name in doomed:
            self.blobs.delete(self._blob(sid, name))
        return len(doomed)

    def reseal(self) -> int:
        """Re-seal names and blobs not sealed with the newest key (after a rotation); returns the count."""
        if self._sealer is None:
            return 0
        done = 0
        for sid in self.session_ids():
            with _redis_errors():
                raw = self.r.get(self._k("names", sid))
            if raw and not self._sealer.is_current(raw):
                place = f"{sid}/names.json"
                with _redis_errors():
                    self.r.set(self._k("names", sid), self._sealer.seal(self._sealer.open(raw, place), place))
                done += 1
            for name in self.blobs.list(sid):
                blob, place = self.blobs.read_bytes(self._blob(sid, name)), f"{sid}/blobs/{name}"
                if not self._sealer.is_current(blob):
                    self.blobs.write_bytes(self._blob(sid, name), self._sealer.seal(self._sealer.open(blob, place),
                                                                                     place))
                    done += 1
        return done

    def delete(self, sid: str) -> None:
        """Erase a session (events, names, blobs); raises if a part could not be removed."""
        with _redis_errors():
            self.r.delete(self._k("ev", sid), self._k("last", sid), self._k("names", sid))
        self.blobs.delete_dir(sid)

    def close(self) -> None:
        self.r.close()
