"""Sources from the environment and from hookchain.yaml: secrets, rotation, insecure, precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.errors import ConfigError, WebhookRejected
from router.settings import Settings
from router.sources import build_sources, unknown_source
from tests.router.providers.conftest import headers, hex_hmac

CONFIG = """
sources:
  - name: github-acme
    provider: github
    secrets: ["${ACME_SECRET}", "${ACME_SECRET_OLD}"]
  - name: github-widgets
    provider: github
    secret: "${WIDGETS_SECRET}"
  - name: deploys
    provider: standard
    secrets: ["${DEPLOY_WHSEC}"]
    replay_window: 120
  - name: lab
    provider: generic
    insecure: true
  - name: forgotten
    provider: gitlab
  - name: stripe
    provider: generic
    secrets: ["${STRIPE_SECRET}"]
    options: {header: Stripe-Signature, signature_field: v1, timestamp_field: t, signed: "{timestamp}.{body}"}
replay_window: 240
"""

ENV = {
    "ACME_SECRET": "acme-new",
    "ACME_SECRET_OLD": "acme-old",
    "WIDGETS_SECRET": "widgets",
    "DEPLOY_WHSEC": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "STRIPE_SECRET": "whsec_stripe",
    "HOOKCHAIN_GITHUB_SECRET": "from-env",
    "HOOKCHAIN_SLACK_SECRET": "slack-env",
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "hookchain.yaml"
    path.write_text(CONFIG)
    return path


def load(config: Path, env: dict[str, str] | None = None, **flags: object) -> Settings:
    return Settings.load({"config_file": config, **flags}, environ=env if env is not None else ENV)


def github_request(body: bytes, secret: str):
    return headers(x_github_event="push", x_hub_signature_256="sha256=" + hex_hmac(secret, body))


def test_without_a_config_file_each_provider_with_a_secret_is_served(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./hookchain.yaml here
    settings = Settings.load(environ={"HOOKCHAIN_GITHUB_SECRET": "s", "HOOKCHAIN_BUILDKITE_SECRET": "b"})
    assert settings.config_file is None
    sources = build_sources(settings)
    assert sorted(sources) == ["buildkite", "github"]
    assert sources["github"].secrets == ("s",)


def test_hookchain_yaml_in_the_working_directory_is_found(tmp_path: Path, monkeypatch):
    (tmp_path / "hookchain.yaml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    settings = Settings.load(environ=ENV)
    assert settings.config_file == Path("hookchain.yaml")
    assert "github-acme" in build_sources(settings)


def test_declared_sources_with_env_references_and_env_providers(config: Path):
    sources = build_sources(load(config))
    assert sorted(sources) == [
        "deploys",
        "forgotten",
        "github",
        "github-acme",
        "github-widgets",
        "lab",
        "slack",
        "stripe",
    ]
    assert sources["github-acme"].secrets == ("acme-new", "acme-old")
    assert sources["github-widgets"].secrets == ("widgets",)
    assert sources["deploys"].provider.replay_window == 120
    assert sources["github-acme"].provider.replay_window == 240
    assert sources["stripe"].provider.options.signature_field == "v1"
    assert "acme-new" not in repr(load(config)) and "acme-new" not in repr(sources["github-acme"])


def test_rotation_both_secrets_of_a_source_verify(config: Path):
    source = build_sources(load(config))["github-acme"]
    body = b'{"ref": "refs/heads/main"}'
    source.verify(github_request(body, "acme-new"), body)
    source.verify(github_request(body, "acme-old"), body)
    with pytest.raises(WebhookRejected):
        source.verify(github_request(body, "widgets"), body)


def test_a_source_without_secret_refuses_everything_unless_insecure(config: Path):
    sources = build_sources(load(config))
    with pytest.raises(WebhookRejected) as refused:
        sources["forgotten"].verify(headers(x_gitlab_token="anything"), b"{}")
    assert refused.value.status == 401 and "no secret" in refused.value.reason
    sources["lab"].verify(headers(), b"{}")  # insecure: true


def test_a_declared_source_may_take_a_providers_name(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("sources:\n  - {name: github, provider: github, secrets: [declared]}\n")
    assert build_sources(load(path))["github"].secrets == ("declared",)


def test_replay_window_source_then_the_tighter_of_provider_and_setting(tmp_path: Path):
    path = tmp_path / "hookchain.yaml"
    path.write_text(
        "sources:\n"
        "  - {name: lin, provider: linear, secrets: [x]}\n"
        "  - {name: lin-loose, provider: linear, secrets: [x], replay_window: 200}\n"
        "  - {name: chat, provider: slack, secrets: [x]}\n"
    )
    sources = build_sources(load(path, {}))
    assert sources["lin"].provider.replay_window == 60  # Linear's own limit beats the 300 s default
    assert sources["lin-loose"].provider.replay_window == 200  # a source says otherwise
    assert sources["chat"].provider.replay_window == 300
    tight = build_sources(load(path, {"HOOKCHAIN_REPLAY_WINDOW": "20"}))
    assert tight["lin"].provider.replay_window == tight["chat"].provider.replay_window == 20


def test_flags_then_environment_then_file(config: Path):
    assert load(config).replay_window == 240
    assert load(config, {**ENV, "HOOKCHAIN_REPLAY_WINDOW": "90"}).replay_window == 90
    assert load(config, {**ENV, "HOOKCHAIN_REPLAY_WINDOW": "90"}, replay_window=30).replay_window == 30
    assert load(config).dedupe_ttl == 3 * 24 * 3600


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("sources:\n  - {name: a, provider: github, secrets: ['${NOT_SET}']}\n", "${NOT_SET} is not set"),
        ("sources:\n  - {name: a, provider: gitlub}\n", "provider"),
        ("sources:\n  - {name: a, provider: github}\n  - {name: a, provider: gitlab}\n", "repeated: a"),
        ("sources:\n  - {name: 'a/b', provider: github}\n", "name"),
        ("sources: {a: 1}\n", "must be a list"),
        ("sources:\n  - {name: a, provider: github, secrets: ['']}\n", "must not be empty"),
        ("replay_window: -5\n", "replay_window"),
        ("sources: [\n", "not valid YAML"),
        ("colour: blue\n", "colour"),
    ],
)
def test_config_errors_say_what_to_fix(tmp_path: Path, text: str, says: str):
    path = tmp_path / "hookchain.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load(path, {})
    assert says in str(error.value)


def test_bad_provider_options_name_the_source(tmp_path: Path):
    path = tmp_path / "hookchain.yaml"
    path.write_text(
        "sources:\n  - {name: ci, provider: buildkite, secrets: [x], options: {require: maybe}}\n"
    )
    with pytest.raises(ConfigError, match="source 'ci': invalid buildkite options: require"):
        build_sources(load(path, {}))


def test_an_explicit_config_file_must_exist(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        Settings.load(environ={"HOOKCHAIN_CONFIG": str(tmp_path / "missing.yaml")})


def test_unknown_source_messages():
    assert "set HOOKCHAIN_GITLAB_SECRET" in unknown_source("gitlab", {}).reason
    assert "declare it under sources:" in unknown_source("nope", {}).reason
