"""Action kinds by name: what a rule's action does. A kind renders its spec into a request and performs it.

Adding a kind is a module with `render` / `describe` / `perform` and one entry here (and its
field on `Action`). Presets are not kinds: they expand to `http` when the rule loads.
"""

from __future__ import annotations

from types import ModuleType

from workers.actions import http_kind

ACTION_KINDS: dict[str, ModuleType] = {
    "http": http_kind,
}
