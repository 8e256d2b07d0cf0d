"""The API keeps its contract: schemathesis against the live schema, as a customer and as a
merchant (issue #13, Must 5).

A live server on the test database serves /api/schema/; every operation runs a bounded
number of generated requests (valid and invalid ones, reproducibly) with each caller's
credentials, and every answer must be no server error, of a documented status and content
type, and match its documented schema. `make test` (and so `.ci/run`) runs it.
"""

import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from credit.tests.apikit import customer_client, merchant_client, shop
from testkit.credit import buy, open_account

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# 28 operations × 2 callers × (valid + invalid) × 10 examples ≈ 1,100 requests: about 25 s
# on two idle cores. The guard below catches a run gone astray, not a busy machine.
MAX_EXAMPLES = 10
RUNAWAY_SECONDS = 180


def _authorization(client) -> dict:
    """The header an apikit client authenticates with (however apikit obtains it); no
    keep-alive, so no live-server thread keeps a database connection open after the test."""
    return {"Authorization": client._credentials["HTTP_AUTHORIZATION"], "Connection": "close"}


def _failures_of(operation, *, mode, headers, base_url) -> list[str]:
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        # Nothing to spoil: an operation without parameters or body has no invalid request.
        assert mode is GenerationMode.NEGATIVE, operation.label
    except Exception as exc:  # hypothesis raises the failures it found, grouped
        return [f"{operation.label} ({mode.value}): {exc}"]
    return []


@pytest.mark.django_db(transaction=True)
def test_every_operation_keeps_the_contract_for_customers_and_merchants(live_server):
    merchant, raw_key = shop()
    account = open_account("5000.00")
    buy(account, "300.00", merchant=merchant)
    callers = {
        "customer": _authorization(customer_client(account.customer)),
        "merchant": _authorization(merchant_client(raw_key)),
    }
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    # Revoking the customer's token goes last, so every other operation runs signed in.
    revoking = [operation for operation in operations if "revoke" in operation.path]
    others = [operation for operation in operations if operation not in revoking]

    def run(batch) -> list[str]:
        return [
            f"as {caller}: {failure}"
            for operation in batch
            for caller, headers in callers.items()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for failure in _failures_of(
                operation, mode=mode, headers=headers, base_url=live_server.url
            )
        ]

    started = time.monotonic()
    failures = run(others)
    still_signed_in = requests.get(
        f"{live_server.url}/api/v1/account/", headers=callers["customer"], timeout=10
    )
    failures += run(revoking)
    elapsed = time.monotonic() - started
    print(f"schemathesis: {len(operations)} operations, 2 callers, {elapsed:.1f} s")

    assert still_signed_in.status_code == 200, still_signed_in.text
    assert not failures, "\n\n".join(failures)
    assert elapsed < RUNAWAY_SECONDS, f"the contract run took {elapsed:.0f} s"


@pytest.mark.django_db
def test_the_schema_documents_every_error_status_and_the_paginated_lists(client):
    schema = client.get("/api/schema/?format=json").json()
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"code", "detail"}
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            expected = {"400", "401", "403", "404", "405", "406", "409", "429", "500", "503"}
            if method == "post":
                expected |= {"415", "422"}
            responses = operation["responses"]
            assert expected <= set(responses), (method, path)
            for status in expected:
                body = responses[status]["content"]["application/json"]["schema"]
                # the Error component, or a view's own description of the same envelope
                assert body == error or set(body["required"]) == {"code", "detail"}, status
            for status in ("429", "503"):
                assert "Retry-After" in responses[status]["headers"], (method, path)
            if method == "get" and {"limit", "offset"} <= {
                p["name"] for p in operation.get("parameters", [])
            }:
                ok = responses["200"]["content"]["application/json"]["schema"]["$ref"]
                listed = schema["components"]["schemas"][ok.rsplit("/", 1)[1]]
                assert set(listed["properties"]) == {"count", "next", "previous", "results"}
    lists = [p for p, ops in schema["paths"].items() if "limit" in str(ops.get("get", {}))]
    assert "/api/v1/appeals/" in lists and "/api/v1/purchases/" in lists and len(lists) >= 7
