"""What a failed boot step leaves behind: the fault row and the failed action event.

nova-conductor records the exception it caught (`compute_utils.exception_to_dict`,
`_get_fault_details`, `serialize_args`): the message is the exception's `format_message()`
for a nova exception (a remote one included: oslo rebuilds it from `nova.exception`, so the
message is the callee's, without its traceback), else the class name; the code is its
`code` kwarg, 500 when it has none; a 500 also keeps the formatted traceback as details.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

from aioconductor.boot.failed_build import fault_message
from aioconductor.errors import NovaError

# the remote modules nova's conductor rebuilds exceptions from (rpc.get_allowed_exmods)
_REBUILT_MODULES = ("nova.exception", "builtins", "exceptions")


@dataclass(frozen=True, slots=True)
class RecordedFailure:
    message: str
    code: int
    details: str  # the formatted traceback, for a 500
    traceback: str  # what the failed action event keeps (format_tb)


def _message_and_code(exc: BaseException) -> tuple[str, int]:
    remote_module = getattr(exc, "module", None)
    remote_class = getattr(exc, "exc_type", None)
    if remote_module is not None and remote_class is not None:  # a failure from a callee
        kwargs = getattr(exc, "kwargs", None) or {}
        code = kwargs.get("code", 500) if isinstance(kwargs, dict) else 500
        if remote_module == "nova.exception":
            return str(getattr(exc, "message", "") or remote_class), int(code)
        if remote_module in _REBUILT_MODULES:
            return str(remote_class), 500  # a builtin has no format_message
        return "RemoteError", 500  # oslo's stand-in for a module it will not import
    if isinstance(exc, NovaError):
        return exc.message, int(exc.kwargs.get("code", 500))
    name = getattr(exc, "oslo_class_name", None) or type(exc).__name__
    return str(name), 500


def recorded(exc: BaseException, *, raised: bool = True) -> RecordedFailure:
    """`raised`: False for an exception nova makes and records without raising it, so
    that no exception is being handled: its fault's details are then what
    `traceback.format_exception(*sys.exc_info())` gives for nothing."""
    message, code = _message_and_code(exc)
    details = ""
    if code == 500:
        if raised:
            details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        else:
            details = "".join(traceback.format_exception(None, None, None))
    return RecordedFailure(
        message=fault_message(message),
        code=code,
        details=details,
        traceback="".join(traceback.format_tb(exc.__traceback__)),
    )
