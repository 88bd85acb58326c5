"""The HTTP front the app is served through, and the one combination it refuses.

Serve's high-throughput mode (``RAY_SERVE_ENABLE_HA_PROXY=1`` with ``RAY_SERVE_THROUGHPUT_OPTIMIZED=1``,
set by ``scripts/env.sh``) puts HAProxy on the HTTP port in front of replicas that serve HTTP
themselves.  HAProxy mode ignores ``http_options.ssl_keyfile``/``ssl_certfile``: a config asking
for TLS would be served in plain HTTP.  The ingress refuses to start in that case rather than
expose PHI unencrypted (``docs/operations.md``, "HTTP front").
"""
from __future__ import annotations

__all__ = ["FrontConfigError", "check_front", "haproxy_front", "served_tls"]


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
