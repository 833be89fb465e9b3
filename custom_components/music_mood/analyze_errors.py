"""Errors of the analyze action that every Home Assistant API reports cleanly.

Home Assistant's APIs classify an action's errors differently by version. Before 2026.10 the
REST API turned anything but a voluptuous error into a 500 with a traceback (and no message), and
the websocket API logged a traceback for ``Unauthorized``. From 2026.10 on, a ServiceValidationError
is a 400 with its message on both, and ``Unauthorized`` a 401 without a traceback. The classes below
add what the older versions need, and nothing on the newer ones (where a voluptuous error would
lose the message).
"""

from __future__ import annotations

import logging
from typing import Final

import voluptuous as vol
from homeassistant.const import MAJOR_VERSION, MINOR_VERSION
from homeassistant.core import Context
from homeassistant.exceptions import ServiceValidationError, Unauthorized

from .const import DOMAIN, SERVICE_ANALYZE

_LOGGER = logging.getLogger(__name__)

_OLD_API_ERROR_HANDLING: Final = (MAJOR_VERSION, MINOR_VERSION) < (2026, 10)


class AnalyzeRefusedError(ServiceValidationError):
    """The analyze call was refused because of its input; the message says why."""


class _AnalyzeRefusedForOldApiError(AnalyzeRefusedError, vol.Invalid):
    """Also a voluptuous error, so that the older REST API answers 400 instead of 500."""


class AdminRequiredError(Unauthorized):
    """A user who is not an administrator called the action (the REST API answers 401)."""

    def __init__(self, context: Context) -> None:
        super().__init__(context=context, permission="admin")
        self.translation_domain = DOMAIN
        self.translation_key = "admin_required"
        self.translation_placeholders = {"action": f"{DOMAIN}.{SERVICE_ANALYZE}"}
        self.generate_message = True


class _AdminRequiredForOldApiError(AdminRequiredError, ServiceValidationError):
    """Also a validation error, so that the older websocket API answers without a traceback."""


def analyze_refused(key: str, **placeholders: str) -> AnalyzeRefusedError:
    """The error for a refused call, translated by ``key`` (``exceptions`` in strings.json)."""
    error_class = _AnalyzeRefusedForOldApiError if _OLD_API_ERROR_HANDLING else AnalyzeRefusedError
    error = error_class(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )
    if _OLD_API_ERROR_HANDLING:
        # That REST API answers a bare "400: Bad Request": the reason has to reach the log.
        _LOGGER.warning("%s.%s refused: %s", DOMAIN, SERVICE_ANALYZE, error)
    return error


def admin_required(context: Context) -> AdminRequiredError:
    error_class = _AdminRequiredForOldApiError if _OLD_API_ERROR_HANDLING else AdminRequiredError
    return error_class(context)
