"""The normalised facts of an event (repo, branch, sha, pr, actor, url) and how to read them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit


def dig(payload: Any, *path: str | int) -> Any:
    """The value at `path` inside nested dicts and lists, or None where any step is missing."""
    for part in path:
        if isinstance(part, int):
            if not isinstance(payload, list) or not -len(payload) <= part < len(payload):
                return None
            payload = payload[part]
        else:
            if not isinstance(payload, dict):
                return None
            payload = payload.get(part)
    return payload


def text(value: Any) -> str | None:
    """A non-empty string, else None (payload fields are sometimes null, numbers or empty)."""
    return value if isinstance(value, str) and value else None


def number(value: Any) -> int | None:
    """An integer, also from its decimal string ("42"); anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def branch_of(ref: Any) -> str | None:
    """`refs/heads/main` -> `main`; a tag ref or anything else -> None; a bare name stays as it is."""
    ref = text(ref)
    if ref is None or ref.startswith("refs/tags/"):
        return None
    return ref.removeprefix("refs/heads/")


def repo_from_url(url: Any) -> str | None:
    """`https://github.com/acme/api.git` or `git@github.com:acme/api.git` -> `acme/api`."""
    url = text(url)
    if url is None:
        return None
    if "://" in url:
        path = urlsplit(url).path
    elif ":" in url:
        path = url.split(":", 1)[1]
    else:
        return None
    path = path.strip("/").removesuffix(".git")
    return path or None


@dataclass(slots=True)
class Facts:
    repo: str | None = None
    branch: str | None = None
    sha: str | None = None
    pr: int | None = None
    actor: str | None = None
    url: str | None = None

    def subject(self) -> str | None:
        """`acme/api#42` for a pull request, `acme/api@<sha>` for a commit, else the repo."""
        if self.repo and self.pr is not None:
            return f"{self.repo}#{self.pr}"
        if self.repo and self.sha:
            return f"{self.repo}@{self.sha}"
        return self.repo

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def named_in(cls, data: Any) -> Facts:
        """Facts a sender states under their own names (repo, branch, sha, pr, actor, url)."""
        return cls(
            repo=text(dig(data, "repo")),
            branch=text(dig(data, "branch")),
            sha=text(dig(data, "sha")),
            pr=number(dig(data, "pr")),
            actor=text(dig(data, "actor")),
            url=text(dig(data, "url")),
        )
