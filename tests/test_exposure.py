import pytest

from issuebridge.settings import Settings
from issuebridge.web.exposure import check_exposure, is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("dashboard.example.com", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_outside_uvicorn_nothing_is_checked() -> None:
    check_exposure(Settings())  # no uvicorn signal handler in this process: no exposure to judge
