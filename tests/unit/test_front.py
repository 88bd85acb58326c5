"""The HTTP front check: a TLS config is never served in plain HTTP by HAProxy mode."""
import pytest

from serve_app.front import FrontConfigError, check_front


@pytest.mark.parametrize("haproxy,tls", [(False, False), (False, True), (True, False)])
def test_every_front_and_tls_combination_but_one_starts(haproxy, tls):
    check_front(haproxy, tls)


def test_tls_asked_for_behind_haproxy_refuses_to_start_and_says_how_to_fix_it():
    with pytest.raises(FrontConfigError, match="RAY_SERVE_ENABLE_HA_PROXY=0"):
        check_front(True, True)
