"""Operations endpoints (/healthz, /readyz) and the OpenAPI document: it describes exactly
the API the app serves, every reference in it resolves, and its shapes match real answers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories import PASSWORD, make_user

REACHABLE_REDIS = "redis://127.0.0.1:6379/0"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def make_app(database_url):
    """Builds apps with extra settings (on the test database) and disposes of them after."""
    from app import create_app

    built = []

    def build(**settings: Any):
        application = create_app({"TESTING": True, "DATABASE_URL": database_url,
                                  "SECRET_KEY": "test-secret", **settings})
        built.append(application)
        return application

    yield build
    for application in built:
        application.extensions["database"].engine.dispose()


def redis_is_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REACHABLE_REDIS, socket_timeout=1).ping())
    except redis.RedisError:
        return False


# ---- /healthz and /readyz ----------------------------------------------------------------

def test_healthz_says_the_process_is_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok"}}


def test_readyz_checks_redis_when_it_is_configured(make_app):
    if not redis_is_up():
        pytest.skip(f"no Redis at {REACHABLE_REDIS}")
    app = make_app(REDIS_URL=REACHABLE_REDIS)

    response = app.test_client().get("/readyz")

    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_when_redis_does_not_answer(make_app):
    app = make_app(REDIS_URL=UNREACHABLE_REDIS)

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("error")


def test_an_app_without_redis_url_has_no_message_queue_even_after_one_with_it(make_app):
    from socketio import PubSubManager

    from app.extensions import socketio

    make_app(REDIS_URL=UNREACHABLE_REDIS)
    make_app(REDIS_URL=None)

    assert not isinstance(socketio.server.manager, PubSubManager)


def test_readyz_is_503_when_the_database_does_not_answer(make_app, database_url):
    if database_url.startswith("sqlite"):
        bad_url = "sqlite:////nonexistent-dir/nothing/hotline.db"
    else:
        bad_url = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=1"
    app = make_app(DATABASE_URL=bad_url)

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["checks"]["database"].startswith("error")


def test_healthz_and_readyz_need_no_sign_in(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


# ---- the OpenAPI document ----------------------------------------------------------------

@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.is_json
    return response.get_json()


def api_operations(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) for every /api/ route the app serves, but the document itself."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule == "/api/openapi.json":
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        operations |= {(path, m.lower()) for m in rule.methods - IGNORED_METHODS}
    return operations


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def test_the_document_is_openapi_3_1_with_info_and_security(document):
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert set(document["components"]["securitySchemes"]) == {"bearer", "session"}
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


def test_every_api_route_is_documented_with_its_method_and_nothing_else_is(app, document):
    served = api_operations(app)
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}

    assert served, "no /api/ routes found"
    assert documented == served


def test_every_operation_is_complete(document):
    operation_ids = []
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            assert method in {"get", "post", "put", "patch", "delete"}
            assert op["summary"] and op["tags"]
            operation_ids.append(op["operationId"])
            assert any(code.startswith("2") for code in op["responses"]), (path, method)
            for response in op["responses"].values():
                assert response["description"]
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (path, method)
            for parameter in op.get("parameters", []):
                assert parameter["in"] in {"path", "query", "header", "cookie"}
                assert "schema" in parameter
                if parameter["in"] == "path":
                    assert parameter["required"] is True
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"


def test_ticket_operations_declare_security_and_the_public_ones_do_not(document):
    open_ops = {(path, method) for path, ops in document["paths"].items()
                for method, op in ops.items() if "security" not in op}

    assert {("/api/auth/token", "post"), ("/api/public/track/{code}", "get")} <= open_ops
    assert not {op for op in open_ops if op[0].startswith(("/api/tickets", "/api/directory"))}


def test_every_ref_resolves_to_a_component_schema(document):
    schemas = document["components"]["schemas"]
    found = list(refs(document))

    assert found
    for ref in found:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def test_ticket_create_requires_line_and_channel_and_limits_the_description(document):
    schema = document["components"]["schemas"]["TicketCreate"]

    assert sorted(schema["required"]) == ["channel", "line"]
    assert schema["properties"]["description"]["maxLength"] == 4000
    assert schema["properties"]["line"]["enum"] == ["1022", "115"]
    assert schema["additionalProperties"] is False
    post = document["paths"]["/api/tickets"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TicketCreate"}
    assert "201" in post["responses"]


def test_the_list_documents_its_query_parameters(document):
    parameters = {p["name"]: p for p in document["paths"]["/api/tickets"]["get"]["parameters"]}

    assert set(parameters) == {"status", "line", "contact_point", "hospital", "category", "overdue",
                               "q", "phone", "page", "per_page"}
    assert all(p["in"] == "query" and p["required"] is False for p in parameters.values())
    assert parameters["per_page"]["schema"]["maximum"] == 100


def test_errors_are_documented_with_the_error_shape(document):
    error = document["components"]["schemas"]["ErrorOut"]
    detail = document["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"code", "message"}
    assert "fields" in detail["properties"]
    assert error["required"] == ["error"]
    for code in ("400", "401", "403", "404", "409", "413", "422"):
        response = document["paths"]["/api/tickets/{ticket_id}/accept"]["post"]["responses"][code]
        assert response["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"}


def test_ticket_out_describes_exactly_the_fields_a_real_ticket_has(client, session, document):
    make_user(session, "operator", username="lan")
    token = client.post("/api/auth/token", json={"username": "lan", "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    created = client.post("/api/tickets", headers=headers, json={"line": "1022", "channel": "web"})
    assert created.status_code == 201
    detail = client.get(f"/api/tickets/{created.get_json()['id']}", headers=headers).get_json()
    schemas = document["components"]["schemas"]

    assert set(schemas["TicketOut"]["properties"]) == set(created.get_json())
    assert set(schemas["TicketDetail"]["properties"]) == set(detail)
    assert set(schemas["EventOut"]["properties"]) == set(detail["events"][0])
    assert set(schemas["TicketOut"]["required"]) == set(created.get_json())


def test_the_contract_ticket_fields_are_all_in_ticket_out(document):
    contract_fields = {"id", "code", "line", "channel", "status", "priority", "category", "description",
                       "caller_phone", "ward_code", "lat", "lon", "contact_point", "hospital", "call",
                       "callback_needed", "created_at", "first_response_due", "resolution_due",
                       "sla_state", "satisfaction", "version"}

    assert contract_fields <= set(document["components"]["schemas"]["TicketOut"]["properties"])
