"""What a failed boot step records, as nova's exception_to_dict/_get_fault_details do."""

from __future__ import annotations

from typing import Any

from aioconductor.boot.failures import recorded
from aioconductor.boot.legacy_filters import MaxRetriesExceeded


class Remote(Exception):
    """A callee's failure as an outgoing call raises it (class, module, message, kwargs)."""

    def __init__(self, exc_type: str, module: str, message: str, **kwargs: Any) -> None:
        super().__init__(message)
        self.exc_type, self.module, self.message, self.kwargs = exc_type, module, message, kwargs


def raised(exc: Exception) -> Exception:
    try:
        raise exc
    except Exception as caught:
        return caught


def test_a_remote_nova_exception_keeps_its_message_and_code() -> None:
    message = "No valid host was found. There are not enough hosts available."
    found = recorded(raised(Remote("NoValidHost", "nova.exception", message, code=500)))
    assert found.message == message
    assert found.code == 500
    assert found.details.startswith("Traceback")


def test_a_remote_error_from_elsewhere_is_named_as_oslo_names_it() -> None:
    found = recorded(raised(Remote("Boom", "somewhere.else", "secret detail")))
    assert found.message == "RemoteError"


def test_a_local_non_nova_exception_shows_only_its_class() -> None:
    found = recorded(raised(KeyError("secret")))
    assert found.message == "KeyError"
    assert found.code == 500


def test_a_nova_exception_of_ours_keeps_its_message_truncated_to_255() -> None:
    found = recorded(raised(MaxRetriesExceeded(reason="x" * 300)))
    assert found.message == ("Exceeded maximum number of retries. " + "x" * 300)[:255]


def test_a_failure_recorded_without_being_raised_has_nova_s_empty_details() -> None:
    # nova formats sys.exc_info() with no exception being handled
    found = recorded(MaxRetriesExceeded(reason="Exhausted all hosts"), raised=False)
    assert found.details == "NoneType: None\n"
    assert found.message == "Exceeded maximum number of retries. Exhausted all hosts"
