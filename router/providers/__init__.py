"""Provider adapters by name. Adding a provider is adding a module and one entry here."""

from router.providers.base import Provider
from router.providers.github import GitHub

PROVIDERS: dict[str, Provider] = {provider.name: provider for provider in (GitHub(),)}

__all__ = ["PROVIDERS", "Provider"]
