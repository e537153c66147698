import re
from pathlib import Path

import pytest

from issuebridge.settings import DEFAULT_API_URL, Settings, SettingsError


def test_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert settings.github_token is None
    assert settings.github_api_url == DEFAULT_API_URL
    assert settings.db_path == Path("issuebridge.db")
    assert {"127.0.0.1:*", "localhost", "[::1]:*"} <= set(settings.allowed_hosts)


def test_reads_every_documented_variable() -> None:
    settings = Settings.from_env(
        {
            "GITHUB_TOKEN": " ghp_secret ",
            "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
            "ISSUEBRIDGE_DB": "/var/lib/issuebridge/boards.db",
            "ISSUEBRIDGE_PUBLIC_URL": "https://dash.example.com/",
            "ISSUEBRIDGE_GITHUB_TIMEOUT": "5.5",
            "ISSUEBRIDGE_MAX_ITEMS": "300",
            "ISSUEBRIDGE_HEARTBEAT_SECONDS": "3",
            "ISSUEBRIDGE_MAX_BODY_BYTES": "1000",
            "ISSUEBRIDGE_EVENT_HISTORY": "16",
            "ISSUEBRIDGE_ALLOWED_HOSTS": "dash.example.com, 10.0.0.5:8000",
        }
    )
    assert settings.github_token == "ghp_secret"
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert settings.db_path == Path("/var/lib/issuebridge/boards.db")
    assert settings.public_url == "https://dash.example.com"
    assert settings.github_timeout == 5.5
    assert settings.max_items == 300
    assert settings.heartbeat_seconds == 3
    assert settings.max_body_bytes == 1000
    assert settings.event_history == 16
    assert settings.allowed_hosts[-2:] == ["dash.example.com", "10.0.0.5:8000"]  # the public URL's host is one


def test_token_never_appears_in_repr() -> None:
    settings = Settings.from_env({"GITHUB_TOKEN": "ghp_supersecret"})
    assert "ghp_supersecret" not in repr(settings)
    assert "ghp_supersecret" not in str(settings)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("ISSUEBRIDGE_MAX_ITEMS", "many", "ISSUEBRIDGE_MAX_ITEMS must be a whole number, got 'many'"),
        ("ISSUEBRIDGE_MAX_ITEMS", "0", "greater than zero"),
        ("ISSUEBRIDGE_GITHUB_TIMEOUT", "-1", "greater than zero"),
        ("ISSUEBRIDGE_GITHUB_TIMEOUT", "soon", "ISSUEBRIDGE_GITHUB_TIMEOUT must be a number"),
        ("GITHUB_API_URL", "api.github.com", "GITHUB_API_URL must be an http(s) URL"),
        ("ISSUEBRIDGE_PUBLIC_URL", "ftp://x", "ISSUEBRIDGE_PUBLIC_URL must be an http(s) URL"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, fragment: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(fragment)):
        Settings.from_env({name: value})


def test_the_webhook_secret_never_appears_in_repr() -> None:
    settings = Settings.from_env({"ISSUEBRIDGE_WEBHOOK_SECRET": " hook-secret-123 "})
    assert settings.webhook_secret == "hook-secret-123"
    assert "hook-secret-123" not in repr(settings) and "hook-secret-123" not in str(settings)
    assert Settings.from_env({}).webhook_secret is None


@pytest.mark.parametrize(("value", "seconds"), [("", None), ("0", None), ("0.0", None), ("off", None), ("30", 30.0)])
def test_background_refresh_is_off_unless_given_an_interval(value: str, seconds: float | None) -> None:
    assert Settings.from_env({"ISSUEBRIDGE_REFRESH_SECONDS": value}).refresh_seconds == seconds
    assert Settings.from_env({}).refresh_seconds is None


@pytest.mark.parametrize("value", ["-5", "soon", "nan", "inf"])
def test_a_bad_refresh_interval_names_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="ISSUEBRIDGE_REFRESH_SECONDS must be a number of seconds"):
        Settings.from_env({"ISSUEBRIDGE_REFRESH_SECONDS": value})


def test_the_redis_url_never_appears_in_repr() -> None:
    settings = Settings.from_env({"ISSUEBRIDGE_REDIS_URL": " redis://app:s3cret-pw@cache:6379/2 "})
    assert settings.redis_url == "redis://app:s3cret-pw@cache:6379/2"
    assert "s3cret-pw" not in repr(settings) and Settings.from_env({}).redis_url is None


def test_a_redis_url_of_another_kind_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="ISSUEBRIDGE_REDIS_URL must start with redis://"):
        Settings.from_env({"ISSUEBRIDGE_REDIS_URL": "localhost:6379"})


def test_github_fetches_are_bounded_by_default() -> None:
    settings = Settings.from_env({})
    assert (settings.call_timeout, settings.max_response_bytes) == (45.0, 16 * 2**20)
    tuned = Settings.from_env({"ISSUEBRIDGE_CALL_TIMEOUT": "20", "ISSUEBRIDGE_MAX_RESPONSE_BYTES": "1048576"})
    assert (tuned.call_timeout, tuned.max_response_bytes) == (20.0, 2**20)


@pytest.mark.parametrize("value", ["60", "90", "inf", "nan"])
def test_the_call_timeout_stays_under_the_clients_60_seconds(value: str) -> None:
    with pytest.raises(SettingsError, match="ISSUEBRIDGE_CALL_TIMEOUT must be under 60 seconds"):
        Settings.from_env({"ISSUEBRIDGE_CALL_TIMEOUT": value})


def test_live_delivery_limits_are_read_and_checked() -> None:
    settings = Settings.from_env(
        {
            "ISSUEBRIDGE_STREAM_RATE_LIMIT": "5 per second",
            "ISSUEBRIDGE_STREAM_SEND_TIMEOUT": "2.5",
            "ISSUEBRIDGE_MCP_MAX_SESSIONS": "50",
            "ISSUEBRIDGE_MCP_SESSIONS_PER_CLIENT": "4",
            "ISSUEBRIDGE_MCP_SESSION_IDLE_SECONDS": "90",
        }
    )
    assert (settings.stream_rate_limit, settings.stream_send_timeout) == ("5 per second", 2.5)
    assert (settings.mcp_max_sessions, settings.mcp_sessions_per_client, settings.mcp_session_idle_seconds) == (
        50,
        4,
        90.0,
    )
    defaults = Settings.from_env({})
    assert (defaults.stream_rate_limit, defaults.mcp_max_sessions, defaults.mcp_session_idle_seconds) == (
        "60/minute",
        1000,
        600.0,
    )
    for name, value in [
        ("ISSUEBRIDGE_STREAM_RATE_LIMIT", "lots"),
        ("ISSUEBRIDGE_STREAM_SEND_TIMEOUT", "inf"),
        ("ISSUEBRIDGE_MCP_SESSION_IDLE_SECONDS", "0"),
        ("ISSUEBRIDGE_MCP_MAX_SESSIONS", "-1"),
    ]:
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: value})
