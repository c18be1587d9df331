"""Registering hookchain's webhooks at the providers (GitHub, GitLab, CircleCI, Buildkite)."""
