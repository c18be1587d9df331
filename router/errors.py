"""hookchain's exception tree: one root, a few kinds a caller can act on."""


class HookchainError(Exception):
    """Root of every error hookchain raises on purpose."""


class ConfigError(HookchainError):
    """A setting, flag or config file value is unusable."""


class WebhookRejected(HookchainError):
    """A request to a hook endpoint is refused; `status` and `reason` go back to the sender."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class QueueUnavailable(HookchainError):
    """Redis could not take the event in time: nothing was acknowledged."""
