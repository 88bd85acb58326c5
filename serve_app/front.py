"""The HTTP front the app is served through, and the one combination it refuses.

Serve's high-throughput mode (``RAY_SERVE_ENABLE_HA_PROXY=1`` with ``RAY_SERVE_THROUGHPUT_OPTIMIZED=1``,
set by ``scripts/env.sh``) puts HAProxy on the HTTP port in front of replicas that serve HTTP
themselves.  HAProxy mode ignores ``http_options.ssl_keyfile``/``ssl_certfile``: a config asking
for TLS would be served in plain HTTP.  The ingress refuses to start in that case rather than
expose PHI unencrypted (``docs/operations.md``, "HTTP front").
"""
from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path
from typing import Callable

__all__ = ["FrontConfigError", "check_front", "haproxy_front", "prune_stale_haproxy_dirs",
           "reap_orphaned_haproxy", "served_tls"]


class FrontConfigError(RuntimeError):
    """The HTTP front cannot serve the configured ``http_options`` as asked."""


def haproxy_front() -> bool:
    """True when Serve runs HAProxy as the HTTP front (read by Serve in this process's environment)."""
    from ray.serve._private import constants

    return bool(constants.RAY_SERVE_ENABLE_HA_PROXY)


def served_tls() -> bool:
    """True when the running Serve instance's ``http_options`` name a TLS key or certificate."""
    import ray
    from ray.serve._private.constants import SERVE_CONTROLLER_NAME, SERVE_NAMESPACE

    controller = ray.get_actor(SERVE_CONTROLLER_NAME, namespace=SERVE_NAMESPACE)
    options = ray.get(controller.get_http_config.remote(), timeout=30)
    return bool(options.ssl_keyfile or options.ssl_certfile)


def check_front(haproxy: bool, tls: bool) -> None:
    """Raise :class:`FrontConfigError` when TLS is configured but HAProxy (plain HTTP) would serve it."""
    if haproxy and tls:
        raise FrontConfigError(
            "http_options set ssl_keyfile/ssl_certfile, but RAY_SERVE_ENABLE_HA_PROXY=1 serves plain HTTP: "
            "set RAY_SERVE_ENABLE_HA_PROXY=0 for TLS on Serve's proxy, or terminate TLS in front of HAProxy "
            "and remove the ssl_* options.")


def _proc(pid_dir: Path) -> tuple[list[str], int] | None:
    try:
        argv = pid_dir.joinpath("cmdline").read_bytes().split(b"\0")
        stat = pid_dir.joinpath("stat").read_text()
    except OSError:  # gone meanwhile, or not ours to read
        return None
    return [a.decode(errors="replace") for a in argv if a], int(stat.rsplit(")", 1)[1].split()[1])


def reap_orphaned_haproxy(directory: str, proc_root: str = "/proc",
                          kill: Callable[[int], None] = lambda pid: os.kill(pid, signal.SIGKILL)) -> list[int]:
    """Kill HAProxy processes configured under ``directory`` whose manager is gone; returns their pids.

    Ray 2.60 starts HAProxy as a child of its ``HAProxyManager`` actor but does not take it down with
    the actor: after a crash (and even after ``ray.shutdown()``) the HAProxy keeps the app's port, and
    the next start's HAProxy cannot bind it.  A live one's parent is the manager; anything else
    running a config from our private directory is a leftover.
    """
    root, reaped = Path(proc_root), []
    for pid, _config, ppid in _our_haproxy(directory, root):
        parent = _proc(root / str(ppid))
        if parent is not None and parent[0] and parent[0][0].startswith("ray::HAProxyManager"):
            continue
        kill(pid)
        reaped.append(pid)
    return reaped


def _our_haproxy(directory: str, root: Path) -> list[tuple[int, str, int]]:
    """(pid, config path, parent pid) of every haproxy running a config under ``directory``."""
    prefix, found = os.path.join(directory, ""), []
    for pid_dir in root.iterdir():
        if not pid_dir.name.isdigit() or (proc := _proc(pid_dir)) is None:
            continue
        argv, ppid = proc
        if not argv or os.path.basename(argv[0]) != "haproxy":
            continue
        config = argv[argv.index("-f") + 1] if "-f" in argv[:-1] else ""
        if config.startswith(prefix):
            found.append((int(pid_dir.name), config, ppid))
    return found


def prune_stale_haproxy_dirs(directory: str, proc_root: str = "/proc", min_age_s: float = 300.0) -> list[str]:
    """Remove the per-start subdirectories Serve leaves under ``directory``; returns their names.

    Serve writes each HAProxy's config, sockets and logs to a fresh subdirectory and never removes
    it.  One is stale when no running haproxy uses a config inside it and it has not changed for
    ``min_age_s`` (a manager that is starting has written its files but not launched haproxy yet).
    """
    base = Path(directory)
    if not base.is_dir():
        return []
    live = {Path(config).parent.name for _, config, _ in _our_haproxy(directory, Path(proc_root))}
    pruned = []
    for sub in base.iterdir():
        if sub.is_dir() and not sub.is_symlink() and sub.name not in live \
                and time.time() - sub.stat().st_mtime >= min_age_s:
            shutil.rmtree(sub, ignore_errors=True)
            pruned.append(sub.name)
    return pruned
