"""TLS on Serve's HTTP proxy (``http_options.ssl_certfile``/``ssl_keyfile``), as ops would enable it:
`serve run` with a self-signed certificate made here serves the API over HTTPS only, and a client that
trusts that certificate gets authenticated answers."""
from __future__ import annotations

import datetime as dt
import ipaddress
import ssl

import httpx
import pytest


def _self_signed(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "scribe.test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def test_the_api_is_served_over_https_with_the_configured_certificate(tmp_path):
    from bench.harness.serve_run import ServeRun

    cert, key = _self_signed(tmp_path)
    run = ServeRun(tmp_path, args={"notes": {"enabled": False}}, tls=(cert, key))
    try:
        run.start()
        assert run.url.startswith("https://")
        with httpx.Client(base_url=run.url, verify=str(cert), timeout=30,
                          headers={"Authorization": f"Bearer {run.token}"}) as https:
            assert https.get("/healthz").status_code == 200
            created = https.post("/v1/sessions", json={})
            assert created.status_code == 201, created.text
            sid = created.json()["session_id"]
            assert https.get(f"/v1/sessions/{sid}").json()["session_id"] == sid
            assert https.get("/v1/sessions", headers={"Authorization": "Bearer wrong"}).status_code == 401
        served = ssl.get_server_certificate(("127.0.0.1", run.port))
        assert served.strip() == cert.read_text().strip()  # the proxy presents the configured certificate
        with pytest.raises(httpx.HTTPError):  # a client that does not trust it refuses the connection
            httpx.get(f"{run.url}/healthz", timeout=10)
        with pytest.raises(httpx.HTTPError):  # and plain HTTP on the port is not served
            r = httpx.get(f"http://127.0.0.1:{run.port}/healthz", timeout=10)
            r.raise_for_status()
    finally:
        if run.proc and run.proc.poll() is None:
            run.kill()
