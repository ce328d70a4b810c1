"""Settings are read once, at the edge, into one validated frozen object."""

from __future__ import annotations

import dataclasses

import pytest
from typer.testing import CliRunner

from newswire.cli import app
from newswire.config import DEFAULTS, SETTINGS, Settings, SettingsError


def test_every_registered_setting_is_a_field_with_its_default():
    assert {f.name for f in dataclasses.fields(Settings)} == set(SETTINGS)
    for setting in SETTINGS.values():
        assert getattr(DEFAULTS, setting.name) == setting.default


def test_values_are_parsed_and_explicit_overrides_win():
    settings = Settings.from_env({"NEWSWIRE_CONCURRENCY": " 4 ", "NEWSWIRE_ALLOWED_HOSTS": "News.Example, b:8000",
                                  "NEWSWIRE_MEDIA_PROXY": "on", "NEWSWIRE_BASE_URL": "https://news.example/"},
                                 concurrency=9)
    assert settings.concurrency == 9
    assert settings.allowed_hosts == ("news.example", "b:8000")
    assert settings.media_proxy is True and settings.base_url == "https://news.example"


@pytest.mark.parametrize("name, value", [
    ("NEWSWIRE_CONCURRENCY", "many"), ("NEWSWIRE_CONCURRENCY", "0"), ("NEWSWIRE_TOTAL_TIMEOUT", "-1"),
    ("NEWSWIRE_TIMEZONE", "Mars/Olympus"), ("NEWSWIRE_ALLOW_PRIVATE_ADDRESSES", "perhaps"),
    ("NEWSWIRE_BASE_URL", "news.example"), ("NEWSWIRE_ALLOWED_HOSTS", "a/b"), ("NEWSWIRE_TOTAL_TIMEOUT", "nan"),
])
def test_a_bad_value_names_its_variable(name, value):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value})
    assert name in str(caught.value)


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULTS.concurrency = 3  # type: ignore[misc]


def test_the_cli_stops_with_one_line_naming_the_variable(tmp_path):
    runner = CliRunner(env={"NEWSWIRE_MAX_BACKOFF": "soon"})
    result = runner.invoke(app, ["sources", "--database", f"sqlite:///{tmp_path / 'n.db'}"])
    assert result.exit_code != 0
    assert "NEWSWIRE_MAX_BACKOFF" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
