"""What Zapier's API has and actionruns does not, answered plainly instead of a bare 404:
the user sign-in of the authorization-code grant, Zaps and their kin (see
docs/zapier-compatibility.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter

from actionruns.api.errors import error_document, error_response
from actionruns.api.responses import JSONResponse

router = APIRouter()

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
NO_SIGN_IN = (
    "actionruns has no end-user accounts to sign in to, so there is no authorization-code "
    "grant. Get an access token with client credentials (POST /oauth/token, "
    "grant_type=client_credentials) and act for an end user with token exchange "
    "(grant_type=urn:ietf:params:oauth:grant-type:token-exchange) or the X-End-User header."
)
# Zapier's resources that are out of scope here: Zaps, Zap templates, Zap runs, profiles and
# White Label trigger inboxes.
OUT_OF_SCOPE = {
    "zaps": "Zaps",
    "zap-templates": "Zap templates",
    "zap-runs": "Zap runs",
    "profiles": "Profiles",
    "trigger-inboxes": "Trigger inboxes",
}


@router.api_route("/oauth/authorize", methods=ALL_METHODS, include_in_schema=False)
@router.api_route("/v2/authorize", methods=ALL_METHODS, include_in_schema=False)
async def authorize() -> JSONResponse:
    body = {
        "error": "unsupported_response_type",
        "error_description": NO_SIGN_IN,
        "errors": [error_document(400, NO_SIGN_IN, code="unsupported_response_type")],
    }
    return JSONResponse(body, status_code=400, headers={"Cache-Control": "no-store"})


def _answering(what: str) -> Callable[[], Awaitable[JSONResponse]]:
    detail = (
        f"{what} are not part of actionruns: it runs single actions "
        "(POST /v2/action-runs). See docs/zapier-compatibility.md."
    )

    async def answer() -> JSONResponse:
        return error_response(404, [error_document(404, detail, code="not_found")])

    return answer


for segment, what in OUT_OF_SCOPE.items():
    for version in ("v1", "v2"):
        for path in (f"/{version}/{segment}", f"/{version}/{segment}/{{rest:path}}"):
            router.add_api_route(
                path, _answering(what), methods=ALL_METHODS, include_in_schema=False
            )
