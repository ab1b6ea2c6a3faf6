"""Exceptions to oslo failures: the JSON string a reply's `failure` key carries.

Format of oslo.messaging `serialize_remote_exception`: class, module, message, tb, args,
kwargs. Clients rebuild the exception from module.class(*args, **kwargs) when the module is
allowed (nova allows only nova.exception) and raise RemoteError otherwise.
"""

from __future__ import annotations

import traceback
from typing import Any

from aioconductor.errors import RemoteFailure
from aioconductor.messaging import jsonwire

_REMOTE_SUFFIX = "_Remote"


def failure_dict(exc: BaseException, *, with_traceback: bool = True) -> dict[str, Any]:
    if isinstance(exc, RemoteFailure):
        cls_name, module = exc.remote_class, exc.remote_module
    else:
        cls_name, module = type(exc).__name__, type(exc).__module__
    if cls_name.endswith(_REMOTE_SUFFIX) and module.endswith(_REMOTE_SUFFIX):
        cls_name, module = cls_name[: -len(_REMOTE_SUFFIX)], module[: -len(_REMOTE_SUFFIX)]
    tb = traceback.format_exception(exc) if with_traceback else []
    if tb and isinstance(exc, RemoteFailure):
        # Name the class as the caller knows it, as the original would print it.
        tb[-1] = f"{module}.{cls_name}: {exc}\n"
    kwargs = getattr(exc, "kwargs", None)
    return {
        "class": cls_name,
        "module": module,
        "message": str(exc),
        "tb": tb,
        "args": list(exc.args),
        "kwargs": kwargs if isinstance(kwargs, dict) else {},
    }


def serialize_failure(exc: BaseException, *, with_traceback: bool = True) -> str:
    return jsonwire.dumps(failure_dict(exc, with_traceback=with_traceback))
