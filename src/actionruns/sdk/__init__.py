"""The connector SDK: everything a connector module needs, and nothing of the service."""

from actionruns.sdk.app import Action, ActionType, App, PerformResult
from actionruns.sdk.auth import Auth, AuthType, OAuth2Config
from actionruns.sdk.context import Context
from actionruns.sdk.errors import (
    ActionError,
    BlockedDestinationError,
    ExpiredAuthError,
    HaltError,
    ThrottledError,
    TransientError,
    UnreachableError,
)
from actionruns.sdk.fields import (
    Choice,
    ChoicePage,
    DynamicFields,
    FieldType,
    InputField,
    OutputField,
)
from actionruns.sdk.limits import Limits, LimitScope, RateLimit
from actionruns.sdk.outbound import Destination, OutboundGuard

__all__ = [
    "Action",
    "ActionError",
    "ActionType",
    "App",
    "Auth",
    "AuthType",
    "BlockedDestinationError",
    "Choice",
    "ChoicePage",
    "Context",
    "Destination",
    "DynamicFields",
    "ExpiredAuthError",
    "FieldType",
    "HaltError",
    "InputField",
    "LimitScope",
    "Limits",
    "OAuth2Config",
    "OutboundGuard",
    "OutputField",
    "PerformResult",
    "RateLimit",
    "ThrottledError",
    "TransientError",
    "UnreachableError",
]
