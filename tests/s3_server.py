"""pytest fixtures: a real S3 API server (moto server mode) on 127.0.0.1.

Use in a test module with::

    from tests.s3_server import s3_bucket, s3_server  # noqa: F401

``s3_server`` (session) starts moto's threaded server on a free loopback port and
points the standard AWS environment at it; ``s3_bucket`` (function) creates a fresh
bucket and yields ``"s3://<name>"``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
_UNSET = ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_CONFIG_FILE")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """Start moto's S3 server on 127.0.0.1; yield its endpoint URL."""
    pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as mp:
        for name, value in _ENV.items():
            mp.setenv(name, value)
        for name in _UNSET:
            mp.delenv(name, raising=False)
        mp.setenv("AWS_ENDPOINT_URL", endpoint)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1"]))
        mp.setenv("NO_PROXY", no_proxy)
        mp.setenv("no_proxy", no_proxy)
        try:
            yield endpoint
        finally:
            server.stop()


@pytest.fixture
def s3_bucket(s3_server: str) -> Iterator[str]:
    """Create a fresh, uniquely named bucket; yield ``s3://<name>``."""
    import s3fs

    fs = s3fs.S3FileSystem(
        endpoint_url=s3_server, skip_instance_cache=True, use_listings_cache=False
    )
    name = f"lamin-sa-test-{uuid.uuid4().hex[:12]}"
    fs.mkdir(name)
    try:
        yield f"s3://{name}"
    finally:
        try:
            fs.rm(name, recursive=True)
        except FileNotFoundError:
            pass
        fs.invalidate_cache()
