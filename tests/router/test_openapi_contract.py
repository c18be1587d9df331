"""The receiver and the admin API against their own OpenAPI description (schemathesis).

Every operation in /api/openapi.json gets generated requests: no answer may be a 5xx, every
status and body must be the documented one, and every request the description allows must
be accepted. Unknown extra query parameters are tolerated, as HTTP servers conventionally do,
so schemathesis's "negative data rejected" check is left out.
"""

from __future__ import annotations

import fakeredis
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection

from router.app import create_app
from router.settings import Settings

TOKEN = "contract-token"
APP = create_app(
    Settings.load(
        {"redis_url": "redis://unused", "admin_token": TOKEN}, environ={"HOOKCHAIN_GITHUB_SECRET": "secret"}
    ),
    redis_client=fakeredis.FakeAsyncRedis(),
)
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=[negative_data_rejection]
    )
