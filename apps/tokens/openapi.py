"""OpenAPI 3.1 description of the token API (served at /api/v1/openapi.json)."""

from __future__ import annotations

_ERROR = {"$ref": "#/components/responses/Error"}
# The body of a compare-and-refresh: the token the caller saw rejected, if any.
_REJECTED = {
    "required": False,
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"rejected_token": {"type": "string"}}}
        }
    },
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Zhongkong token API",
        "version": "1",
        "description": "Business servers fetch the current access token of a credential "
        "and ask for a passive refresh when the platform rejected it.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"clientKey": []}],
    "paths": {
        "/tokens/{credential}": {
            "get": {
                "summary": "The current token (refreshed first if it has expired)",
                "parameters": [{"$ref": "#/components/parameters/credential"}],
                "responses": {
                    "200": {"$ref": "#/components/responses/Token"},
                    "401": _ERROR,
                    "403": _ERROR,
                    "404": _ERROR,
                    "429": _ERROR,
                    "502": _ERROR,
                    "503": _ERROR,
                },
            },
        },
        "/tokens/{credential}/refresh": {
            "post": {
                "summary": "Compare-and-refresh: fetch a new token only if the rejected one "
                "is still current (or, naming none, now); concurrent callers share "
                "one upstream fetch",
                "parameters": [{"$ref": "#/components/parameters/credential"}],
                "requestBody": _REJECTED,
                "responses": {
                    "200": {
                        "description": "The current token; `reissued` is true when the "
                        "platform handed back the very token named as rejected (it holds it "
                        "current: the rejection has another cause, and asking again within "
                        "the rejection window makes no further fetch)",
                        "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}},
                        "content": {
                            "application/json": {
                                "schema": {
                                    "allOf": [
                                        {"$ref": "#/components/schemas/Token"},
                                        {
                                            "type": "object",
                                            "required": ["reissued"],
                                            "properties": {"reissued": {"type": "boolean"}},
                                        },
                                    ]
                                }
                            }
                        },
                    },
                    "400": _ERROR,
                    "401": _ERROR,
                    "403": _ERROR,
                    "404": _ERROR,
                    "429": _ERROR,
                    "502": _ERROR,
                    "503": _ERROR,
                },
            },
        },
        "/tokens/{credential}/users/{user_id}": {
            "get": {
                "summary": "A connected user's token (refreshed first when due); only for a "
                "client key granted user tokens",
                "parameters": [
                    {"$ref": "#/components/parameters/credential"},
                    {"$ref": "#/components/parameters/user_id"},
                ],
                "responses": {
                    "200": {"$ref": "#/components/responses/UserToken"},
                    **{code: _ERROR for code in ("401", "403", "404", "409", "429", "502", "503")},
                },
            },
        },
        "/tokens/{credential}/users/{user_id}/refresh": {
            "post": {
                "summary": "Compare-and-refresh of a user's token: refresh only if the rejected "
                "one is still current (or, naming none, now); one platform refresh however "
                "many ask; 409 needs_reauthorisation when the user must authorise again",
                "parameters": [
                    {"$ref": "#/components/parameters/credential"},
                    {"$ref": "#/components/parameters/user_id"},
                ],
                "requestBody": _REJECTED,
                "responses": {
                    "200": {"$ref": "#/components/responses/UserToken"},
                    **{
                        code: _ERROR
                        for code in ("400", "401", "403", "404", "409", "429", "502", "503")
                    },
                },
            },
        },
    },
    "components": {
        "securitySchemes": {
            "clientKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "A client key created by an admin",
            }
        },
        "parameters": {
            "credential": {
                "name": "credential",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "The credential's slug",
            },
            "user_id": {
                "name": "user_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "The platform's id of the user (Feishu open_id)",
            },
        },
        "headers": {
            "X-Request-ID": {
                "schema": {"type": "string"},
                "description": "Id of this request (also in logs/audit)",
            }
        },
        "responses": {
            "Token": {
                "description": "The token",
                "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Token"}}},
            },
            "UserToken": {
                "description": "The user's token",
                "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}},
                "content": {
                    "application/json": {
                        "schema": {
                            "allOf": [
                                {"$ref": "#/components/schemas/Token"},
                                {
                                    "type": "object",
                                    "required": ["user_id"],
                                    "properties": {"user_id": {"type": "string"}},
                                },
                            ]
                        }
                    }
                },
            },
            "Error": {
                "description": "An error; every 503 and 429 carries Retry-After (seconds)",
                "headers": {
                    "X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"},
                    "Retry-After": {"schema": {"type": "integer"}},
                },
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
        "schemas": {
            "Token": {
                "type": "object",
                "required": [
                    "credential",
                    "provider",
                    "token_type",
                    "access_token",
                    "expires_at",
                    "expires_in",
                    "version",
                ],
                "properties": {
                    "credential": {"type": "string"},
                    "provider": {"type": "string"},
                    "token_type": {"type": "string"},
                    "access_token": {"type": "string"},
                    "expires_at": {"type": "string", "format": "date-time"},
                    "expires_in": {"type": "integer"},
                    "version": {"type": "integer"},
                },
            },
            "Error": {
                "type": "object",
                "required": ["error", "request_id"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    },
                    "request_id": {"type": "string"},
                },
            },
        },
    },
}


def _json_body(required: list[str], properties: dict) -> dict:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "required": required, "properties": properties}
            }
        },
    }


def _answer(description: str, required: list[str], properties: dict) -> dict:
    schema = {"type": "object", "required": required, "properties": properties}
    return {
        "description": description,
        "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}},
        "content": {"application/json": {"schema": schema}},
    }


_TICKET = _answer(
    "The ticket (it signs pages; prefer jsapi-signature, which keeps it here)",
    ["credential", "provider", "kind", "ticket", "expires_at", "expires_in", "version"],
    {
        "credential": {"type": "string"},
        "provider": {"type": "string"},
        "kind": {"type": "string"},
        "ticket": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time"},
        "expires_in": {"type": "integer"},
        "version": {"type": "integer"},
    },
)
_TICKET_ERRORS = {code: _ERROR for code in ("400", "401", "403", "404", "429", "502", "503")}
_KIND = {
    "name": "kind",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": ["jsapi", "wx_card", "agent_config"]},
    "description": "jsapi on every platform; wx_card on WeChat; agent_config on WeCom",
}
_CREDENTIAL = {"$ref": "#/components/parameters/credential"}
DOCUMENT["paths"].update(
    {
        "/tokens/{credential}/tickets/{kind}": {
            "get": {
                "summary": "A JS-SDK ticket, fetched once however many ask",
                "security": [{"clientKey": []}],
                "parameters": [_CREDENTIAL, _KIND],
                "responses": {"200": _TICKET, **_TICKET_ERRORS},
            }
        },
        "/tokens/{credential}/tickets/{kind}/refresh": {
            "post": {
                "summary": "Compare-and-refresh of a ticket the platform rejected",
                "security": [{"clientKey": []}],
                "parameters": [_CREDENTIAL, _KIND],
                "requestBody": _json_body(
                    ["rejected_ticket"], {"rejected_ticket": {"type": "string"}}
                ),
                "responses": {"200": _TICKET, **_TICKET_ERRORS},
            }
        },
        "/tokens/{credential}/jsapi-signature": {
            "post": {
                "summary": "A page's JS-SDK configuration, signed (the ticket stays here)",
                "security": [{"clientKey": []}],
                "parameters": [_CREDENTIAL],
                "requestBody": _json_body(
                    ["url"],
                    {"url": {"type": "string", "format": "uri"}, "kind": {"type": "string"}},
                ),
                "responses": {
                    "200": _answer(
                        "appId, timestamp (Feishu, DingTalk: milliseconds), nonceStr, signature",
                        ["appId", "timestamp", "nonceStr", "signature", "url", "kind"],
                        {
                            "appId": {"type": "string"},
                            "timestamp": {"type": "integer"},
                            "nonceStr": {"type": "string"},
                            "signature": {"type": "string"},
                            "url": {"type": "string"},
                            "kind": {"type": "string"},
                        },
                    ),
                    **_TICKET_ERRORS,
                },
            }
        },
    }
)
