"""Provider adapters by name. Adding a provider is adding a module and one entry here."""

from router.providers.base import Provider
from router.providers.bitbucket import Bitbucket
from router.providers.buildkite import Buildkite
from router.providers.circleci import CircleCI
from router.providers.generic import Generic
from router.providers.github import GitHub
from router.providers.gitlab import GitLab
from router.providers.jira import Jira
from router.providers.linear import Linear
from router.providers.slack import Slack
from router.providers.standard import StandardWebhooks

PROVIDERS: dict[str, type[Provider]] = {
    provider.name: provider
    for provider in (
        GitHub,
        GitLab,
        Bitbucket,
        CircleCI,
        Buildkite,
        Slack,
        Linear,
        Jira,
        StandardWebhooks,
        Generic,
    )
}

__all__ = ["PROVIDERS", "Provider"]
