"""Store restart time and memory against the number of finished sessions on disk (or in Redis).

    python -m bench.perf.store_restart [--counts 100,1000,10000] [--before COMMIT]

One realistic session is made through the real store (120 chunks of 5 s, two segments each, a draft
note every ten chunks, a final note, the checks) and copied under new ids and owners as N finished
sessions, plus 8 sessions still recording.  Then, each in a fresh process, the store is built on that
data and the time of its construction and the memory it holds after (tracemalloc) are measured:
this commit on the local disk and on Redis (a real ``redis-server``, AOF ``always``); with
``--before``, the same for the store of an earlier commit (checked out in a temporary git worktree)
on the same disk data, so the comparison is from one run.  Results: ``bench/results/store_restart.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIVE = 8

_MEASURE = r"""
import json, os, resource, sys, time
sys.path.insert(0, sys.argv[1])
from serve_app.sessions.disk_journal import DiskJournal
from serve_app.sessions.spec import StoreSpec
from serve_app.sessions.store import SessionStore
backend, data = sys.argv[2], sys.argv[3]
if backend == "redis":
    from serve_app.sessions.redis_journal import RedisJournal
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
base = rss()
t0 = time.perf_counter()
journal = RedisJournal.from_url(data, sys.argv[4]) if backend == "redis" else DiskJournal(data)
store = SessionStore(journal, StoreSpec())
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"restart_s": round(seconds, 3), "held_mb": round((rss() - base) / 2**20, 1),
                  "peak_mb": round((peak - base) / 2**20, 1), "in_memory": len(store.book.sessions)}))
"""


def _template(tmp: str) -> tuple[list[dict], list[dict]]:
    """Events of one finished session (as the store before compaction wrote it) and one recording
    session, made by the real store."""
    from serve_app.sessions.disk_journal import DiskJournal
    from serve_app.sessions.spec import StoreSpec
    from serve_app.sessions.store import SessionStore

    clock = [1000.0]
    store = SessionStore(DiskJournal(tmp), StoreSpec(finish_grace_s=0, checks=True), clock=lambda: clock[0])
    note = {k: [{"id": f"{k[0]}{i}", "text": f"{k} item {i} about the cough and the inhaler dose", "citations":
                 [f"s{i}"]} for i in range(4)] for k in ("subjective", "objective", "assessment", "plan")}

    def run(sid, chunks, finish):
        for seq in range(chunks):
            clock[0] += 5
            store.api.put_chunk("a", sid, seq, os.urandom(64), "audio/wav", 5.0, 1)
            item = store.work.next_work(sid)
            segs = [{"text": f"segment {seq}.{k}: [PERSON_1] says the cough is worse at night", "start": item.offset,
                     "end": item.offset + 2.5, "role": "patient", "_voice": [[0.1] * 14]} for k in range(2)]
            store.work.commit_chunk(sid, seq, item.offset, item.offset + 5.0, segs, None)
            if seq % 10 == 9:
                basis = store.notes.note_inputs(sid)["basis"]
                store.notes.commit_note(sid, basis, note, final=False)
                store.notes.commit_warnings(sid, store.api.get_state("a", sid)["note_version"], [])
        if finish:
            store.api.request_finish("a", sid)
            for _ in range(10):
                item = store.work.next_work(sid)
                if item.kind == "flush":
                    store.work.commit_flush(sid, [], None)
                elif item.kind == "final_note":
                    store.notes.commit_note(sid, item.basis, note, final=True)
                elif item.kind == "final_checks":
                    store.notes.commit_warnings(sid, item.note_version, [])
                elif item.kind == "finish":
                    store.work.mark_finished(sid)
    import serve_app.sessions.book as book_module

    compaction, book_module.compact = book_module.compact, lambda events: events  # keep every draft here
    done = store.api.create_session("a")["session_id"]
    run(done, 120, True)
    book_module.compact = compaction
    live = store.api.create_session("a")["session_id"]
    run(live, 60, False)
    return store.book.events_of(done), store.book.events_of(live)


def _sessions(count: int):
    """(sid, owner, finished?) of the synthetic data set."""
    for i in range(count + LIVE):
        yield f"synthetic-{i:06d}", f"clinician-{i % 40}", i < count


def _events_for(template: list[dict], owner: str) -> list[dict]:
    first = {**template[0], "data": {**template[0]["data"], "owner": owner}}
    return [first, *template[1:]]


def write_disk(root: Path, count: int, finished: list[dict], live: list[dict]) -> None:
    """``count`` finished sessions with the events ``finished`` and ``LIVE`` recording ones, and the catalog."""
    from serve_app.sessions.catalog import entry_of
    from serve_app.sessions.compaction import finished_at
    from serve_app.sessions.disk_journal import DiskJournal
    from serve_app.sessions.frames import frame
    from serve_app.sessions.model import fold

    journal, entries = DiskJournal(root), {}
    for sid, owner, done in _sessions(count):
        events = _events_for(finished if done else live, owner)
        (root / "sessions" / sid / "blobs").mkdir(parents=True)
        (root / "sessions" / sid / "events.jsonl").write_bytes(b"".join(frame(e) for e in events))
        entries[sid] = entry_of(fold(sid, events), active=not done, finished_at=finished_at(events), key=None)
    journal.write_catalog(entries)


def write_redis(url: str, count: int, finished: list[dict], live: list[dict]) -> None:
    import redis

    from serve_app.sessions.catalog import entry_of
    from serve_app.sessions.compaction import finished_at
    from serve_app.sessions.frames import frame
    from serve_app.sessions.model import fold

    r = redis.Redis.from_url(url)
    r.config_set("appendfsync", "no")  # loading test data only; measured with "always" below
    pipe, entries = r.pipeline(transaction=False), {}
    for sid, owner, done in _sessions(count):
        events = _events_for(finished if done else live, owner)
        pipe.rpush(f"scribe:ev:{sid}", *[frame(e) for e in events])
        pipe.set(f"scribe:last:{sid}", events[-1]["id"])
        entries[sid] = json.dumps(entry_of(fold(sid, events), active=not done, finished_at=finished_at(events),
                                           key=None))
        if len(pipe) > 2000:
            pipe.execute()
    pipe.hset("scribe:catalog", mapping=entries)
    pipe.set("scribe:catalog:v1", "1")
    pipe.execute()
    r.config_set("appendfsync", "always")


def _measure(code_root: Path, backend: str, *args: str) -> dict:
    """One store construction in a fresh process: seconds, RSS it added (held, peak), sessions in memory."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(code_root), backend, *args], capture_output=True,
                         text=True, cwd=str(code_root))
    if out.returncode != 0:  # e.g. killed by the kernel for want of memory: a result, not a crash
        return {"error": f"exit {out.returncode}" + (" (SIGKILL: out of memory?)" if out.returncode == -9 else "")}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    from bench.harness.redis_server import RedisServer
    from serve_app.sessions.compaction import compact

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="100,1000,10000")
    parser.add_argument("--before", default="", help="an earlier commit to compare with (disk only)")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="store-restart-"))
    finished, live = _template(str(tmp / "template"))
    before_root = None
    if args.before:
        before_root = tmp / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(before_root), args.before], cwd=ROOT, check=True,
                       capture_output=True)
    results = {"recording_sessions": LIVE, "finished_session": {
        "events_before_compaction": len(finished), "events_after": len(compact(finished)),
        "json_bytes_before": sum(len(json.dumps(e)) for e in finished),
        "json_bytes_after": sum(len(json.dumps(e)) for e in compact(finished))}, "runs": []}
    try:
        for count in [int(c) for c in args.counts.split(",")]:
            disk = tmp / f"disk-{count}"
            write_disk(disk, count, compact(finished), live)
            row = {"finished_sessions": count, "disk": _measure(ROOT, "disk", str(disk))}
            if before_root is not None:  # the old store on what it wrote: every draft kept
                old = tmp / f"disk-before-{count}"
                write_disk(old, count, finished, live)
                row["disk_before"] = _measure(before_root, "disk", str(old))
            server = RedisServer(tmp / f"redis-{count}").start()
            try:
                write_redis(server.url, count, compact(finished), live)
                row["redis"] = _measure(ROOT, "redis", server.url, str(tmp / f"blobs-{count}"))
            finally:
                server.stop()
            results["runs"].append(row)
            print(json.dumps(row), flush=True)
    finally:
        if before_root is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(before_root)], cwd=ROOT, check=False)
    out = ROOT / "bench" / "results" / "store_restart.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
