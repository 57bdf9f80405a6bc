"""A description built to meet what real ones do: every case the importer must read right."""

from __future__ import annotations

from typing import Any

PET = {
    "allOf": [
        {"$ref": "#/components/schemas/NewPet"},
        {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "integer", "format": "int64", "readOnly": True}},
        },
    ]
}
NEW_PET = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "description": "The pet's name.", "example": "Rex"},
        "tag": {"type": "string", "nullable": True},
        "nickname": {"type": ["string", "null"], "description": "What friends call it."},
        "status": {
            "type": "string",
            "enum": ["available", "pending", "sold"],
            "default": "available",
        },
        "born_at": {"type": "string", "format": "date-time"},
        "weight": {"type": "number"},
        "vaccinated": {"type": "boolean"},
        "toys": {"type": "array", "items": {"type": "string"}},
        "vets": {"type": "array", "items": {"$ref": "#/components/schemas/Vet"}},
        "owner": {
            "type": "object",
            "description": "Who looks after it.",
            "properties": {
                "name": {"type": "string"},
                "address": {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string"},
                        "geo": {"type": "object", "properties": {"lat": {"type": "number"}}},
                    },
                },
            },
        },
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "secret_code": {"type": "string", "format": "password"},
        "kind": {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}]
        },
        "memo": {
            "anyOf": [{"type": "string", "maxLength": 5000}, {"type": "string", "enum": [""]}]
        },
        "internal": {"type": "string", "deprecated": True},
    },
}


def petstore() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Petstore API",
            "version": "1.2.3",
            "description": "Pets, their owners and photos.\n\nMore text.",
            "license": {"name": "MIT"},
        },
        "servers": [
            {
                "url": "https://{region}.pets.example.com/v1",
                "variables": {"region": {"default": "eu", "enum": ["eu", "us"]}},
            }
        ],
        "security": [{"apiKey": []}, {"oauth": ["pets:read"]}],
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "listPets",
                    "summary": "List pets",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "maximum": 100},
                        },
                        {
                            "name": "tags",
                            "in": "query",
                            "style": "form",
                            "explode": False,
                            "schema": {"type": "array", "items": {"type": "string"}},
                        },
                        {
                            "name": "X-Api-Version",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string", "enum": ["2024-01-01"]},
                        },
                        {"$ref": "#/components/parameters/Page"},
                    ],
                    "responses": {
                        "200": {
                            "description": "pets",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "data": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Pet"},
                                            },
                                            "has_more": {"type": "boolean"},
                                        },
                                    },
                                    "example": {
                                        "data": [{"id": 7, "name": "Rex", "tag": "dog"}],
                                        "has_more": False,
                                    },
                                }
                            },
                        }
                    },
                },
                "post": {
                    "operationId": "createPet",
                    "summary": "Create a pet.",
                    "description": "Adds a pet to the store. Its **name** must be unique.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "made",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}
                            },
                        }
                    },
                },
            },
            "/pets/{petId}": {
                "parameters": [
                    {"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "get": {
                    "operationId": "showPetById",
                    "summary": "Info for a pet",
                    "security": [{"oauth": ["pets:read", "pets:admin"]}],
                    "responses": {
                        "200": {
                            "description": "the pet",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "data": {"$ref": "#/components/schemas/Pet"}
                                        },
                                    }
                                }
                            },
                        }
                    },
                },
                "delete": {
                    "operationId": "deletePet",
                    "summary": "Delete a pet",
                    "responses": {"204": {"description": "gone"}},
                },
                "put": {
                    "operationId": "replacePet",
                    "deprecated": True,
                    "summary": "Replace a pet (old)",
                    "responses": {"200": {"description": "ok"}},
                },
            },
            "/pets/{petId}/photos": {
                "post": {
                    "operationId": "uploadPhoto",
                    "summary": "Upload a photo",
                    "parameters": [
                        {
                            "name": "petId",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "requestBody": {
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file"],
                                    "properties": {
                                        "file": {"type": "string", "format": "binary"},
                                        "caption": {"type": "string"},
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"url": {"type": "string", "format": "uri"}},
                                    }
                                }
                            },
                        }
                    },
                }
            },
            "/orders": {
                "post": {
                    "operationId": "createOrder",
                    "summary": "Place an order",
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "pet_id": {"type": "integer"},
                                        "metadata": {
                                            "type": "object",
                                            "additionalProperties": {"type": "string"},
                                        },
                                        "items": {"type": "array", "items": {"type": "string"}},
                                        "codes": {"type": "array", "items": {"type": "string"}},
                                    },
                                },
                                "encoding": {
                                    "metadata": {"style": "deepObject", "explode": True},
                                    "codes": {"style": "form", "explode": False},
                                },
                            }
                        }
                    },
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"id": {"type": "string"}},
                                    }
                                }
                            },
                        }
                    },
                }
            },
            "/trees/{treeId}": {
                "get": {
                    "operationId": "getTree",
                    "summary": "A family tree",
                    "parameters": [
                        {
                            "name": "treeId",
                            "in": "path",
                            "required": True,
                            "style": "label",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "filter",
                            "in": "query",
                            "style": "deepObject",
                            "explode": True,
                            "schema": {
                                "type": "object",
                                "properties": {"depth": {"type": "integer"}},
                            },
                        },
                        {
                            "name": "fields",
                            "in": "query",
                            "style": "pipeDelimited",
                            "explode": False,
                            "schema": {"type": "array", "items": {"type": "string"}},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Tree"}
                                }
                            },
                        }
                    },
                }
            },
            "/me": {
                "get": {
                    "operationId": "whoAmI",
                    "summary": "The account",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "name": {"type": "string"},
                                            "email": {"type": "string"},
                                        },
                                    }
                                }
                            },
                        }
                    },
                }
            },
            "/exports": {
                "post": {
                    "operationId": "exportXml",
                    "summary": "Export as XML",
                    "requestBody": {"content": {"application/xml": {"schema": {"type": "string"}}}},
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
        "components": {
            "parameters": {
                "Page": {"name": "page", "in": "query", "schema": {"type": "integer", "default": 1}}
            },
            "securitySchemes": {
                "apiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-API-Key",
                    "description": "Your key, from the settings page.",
                },
                "oauth": {
                    "type": "oauth2",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": "https://pets.example.com/oauth/authorize",
                            "tokenUrl": "/oauth/token",
                            "scopes": {
                                "pets:read": "read",
                                "pets:admin": "admin",
                                "pets:write": "write",
                            },
                        }
                    },
                },
            },
            "schemas": {
                "Pet": PET,
                "NewPet": NEW_PET,
                "Vet": {"type": "object", "properties": {"name": {"type": "string"}}},
                "Cat": {
                    "type": "object",
                    "required": ["meows"],
                    "properties": {"meows": {"type": "boolean"}},
                },
                "Dog": {"type": "object", "properties": {"barks": {"type": "boolean"}}},
                "Tree": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "parent": {"$ref": "#/components/schemas/Tree"},
                        "children": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Tree"},
                        },
                    },
                },
            },
        },
    }
