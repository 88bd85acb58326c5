"""The ``scribe`` command (ops tools that ship with the service).

::

    scribe prepare-models      # convert the packaged note model once into the model cache
    scribe audit verify        # check the audit log's hash chain (exit 1 if broken)
    scribe audit show -n 20    # the last audit records (no PHI in them)
    scribe data-key rotate     # put a fresh data-at-rest key first in the key file
    scribe data-key reseal     # re-seal every PHI file with the newest key
    scribe erasures            # erasures still pending (DELETEs that could not finish at once)

Evaluation and fitting are offline tools: ``python -m bench --help``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

__all__ = ["main"]


def _prepare(args) -> int:
    from serve_app.config import NotesConfig
    from serve_app.engines.notes.models import resolve_note_model
    from serve_app.settings import Settings

    cfg = NotesConfig()
    if cfg.backend == "vllm":
        print(f"[prepare-models] note model: {resolve_note_model(cfg.model, Settings().resolved_model_cache())}")
    return 0


def _audit_path(args) -> Path:
    from serve_app.settings import Settings

    return Path(args.path) if args.path else Settings().audit_log_path()


def _audit_verify(args) -> int:
    from serve_app.audit import verify_log

    check = verify_log(_audit_path(args))
    if check.ok:
        print(f"[audit] {check.records} records, chain intact")
        return 0
    print(f"[audit] BROKEN at record {check.first_bad}: {check.reason} ({check.records} records verified before it)")
    return 1


def _audit_show(args) -> int:
    path = _audit_path(args)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    for line in lines[-args.n:]:
        print(line)
    return 0


def _key_rotate(args) -> int:
    from serve_app.sealing import rotate_key_file
    from serve_app.settings import Settings

    settings = Settings()
    if settings.data_keys is not None:
        print("[data-key] SCRIBE_DATA_KEYS is set: put the new key first in it, restart, "
              "then run 'scribe data-key reseal'")
        return 1
    rotate_key_file(settings.data_key_path())
    print(f"[data-key] new key first in {settings.data_key_path()}; restart the service, then run "
          "'scribe data-key reseal', then remove the old key (the last line)")
    return 0


def _key_reseal(args) -> int:
    from serve_app.sessions.journals import open_journal
    from serve_app.sessions.spec import StoreSpec
    from serve_app.settings import Settings

    settings = Settings()
    spec = StoreSpec(data_dir=str(settings.resolved_data_dir()), data_key_path=str(settings.data_key_path()))
    count = open_journal(spec, settings).reseal()  # the local disk, or Redis with REDIS_URL
    print(f"[data-key] {count} files re-sealed with the newest key")
    return 0


def _erasures(args) -> int:
    from serve_app.ingress.erasure import ErasureLedger
    from serve_app.settings import Settings

    pending = ErasureLedger(Settings().resolved_data_dir() / "erasures").pending()
    for entry in pending:  # ids and pseudonyms only: no PHI
        fields = ("sid", "clinician", "requested_at", "done", "pending", "attempts")
        print(json.dumps({k: entry.get(k) for k in fields}))
    print(f"[erasures] {len(pending)} pending (the service retries them every retention.erasure_retry_s)")
    return 0


def _reap_haproxy(args) -> int:
    from serve_app.front import prune_stale_haproxy_dirs, reap_orphaned_haproxy

    config = os.environ.get("RAY_SERVE_HAPROXY_CONFIG_FILE_LOC")
    if not config:
        print("[reap-haproxy] RAY_SERVE_HAPROXY_CONFIG_FILE_LOC is not set (source scripts/env.sh)")
        return 0
    reaped = reap_orphaned_haproxy(os.path.dirname(config))
    if reaped:
        print(f"[reap-haproxy] killed {len(reaped)} HAProxy process(es) left by a stopped app: {reaped}")
    pruned = prune_stale_haproxy_dirs(os.path.dirname(config))
    if pruned:
        print(f"[reap-haproxy] removed {len(pruned)} stale HAProxy director(ies)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scribe")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare-models", help="convert the packaged note model once").set_defaults(func=_prepare)
    audit = sub.add_parser("audit", help="the audit log of names reveals, exports, feedback and deletions")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    for name, func, text in (("verify", _audit_verify, "check the hash chain"), ("show", _audit_show, "last records")):
        cmd = audit_sub.add_parser(name, help=text)
        cmd.add_argument("--path", help="the log (default: $SCRIBE_DATA_DIR/audit/audit.jsonl)")
        cmd.set_defaults(func=func)
        if name == "show":
            cmd.add_argument("-n", type=int, default=20, help="how many records")
    keys = sub.add_parser("data-key", help="the keys sealing PHI at rest")
    keys_sub = keys.add_subparsers(dest="key_command", required=True)
    keys_sub.add_parser("rotate", help="a fresh key first in the key file").set_defaults(func=_key_rotate)
    keys_sub.add_parser("reseal", help="re-seal every PHI file with the newest key").set_defaults(func=_key_reseal)
    sub.add_parser("erasures", help="erasures still pending").set_defaults(func=_erasures)
    sub.add_parser("reap-haproxy", help="kill HAProxy processes a stopped app left holding its ports"
                   ).set_defaults(func=_reap_haproxy)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
