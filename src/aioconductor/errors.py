"""Errors: ours, and mirrors of the exceptions callers rebuild from oslo failures.

A `RemoteFailure` is an exception that travels to the RPC caller as an oslo failure with the
class and module the caller expects. nova clients rebuild `nova.exception.*` classes from
`args` + `kwargs`, so a `NovaError` carries the formatted message as its only arg and the
format kwargs (plus `code`) exactly as `nova.exception.NovaException.__init__` stores them.
Everything else (dispatcher and object-framework errors) is seen by nova clients as
`oslo_messaging.RemoteError`, which is what they see from nova-conductor too.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ConfigError(Exception):
    """A configuration problem, reported as one line naming the section and key."""


class BootError(Exception):
    """A worker cannot start for a reason restarting will not fix (bad URL, refused auth)."""


class NotNative(Exception):
    """Raised before any work is done when a request is not served natively.

    The server forwards the original message to the legacy conductor when one is configured;
    otherwise it answers with `failure`, the error nova-conductor would give for the request.
    """

    def __init__(self, reason: str, failure: RemoteFailure) -> None:
        super().__init__(reason)
        self.reason = reason
        self.failure = failure


class RemoteFailure(Exception):
    """Base for exceptions sent to the caller as an oslo failure."""

    remote_module: ClassVar[str] = "builtins"
    msg_fmt: ClassVar[str] = "An unknown exception occurred."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.kwargs: dict[str, Any] = dict(kwargs)
        self._add_code()
        if not message:
            try:
                message = self.msg_fmt % self.kwargs
            except (KeyError, TypeError, ValueError):
                message = self.msg_fmt
        self.message = message
        super().__init__(message)

    def _add_code(self) -> None:
        """oslo dispatcher errors carry no code; nova and ovo errors do."""

    @property
    def remote_class(self) -> str:
        return type(self).__name__


# --- oslo.messaging dispatcher errors (module oslo_messaging.rpc.dispatcher) ---------------


class DispatcherError(RemoteFailure):
    remote_module = "oslo_messaging.rpc.dispatcher"


class NoSuchMethod(DispatcherError):
    def __init__(self, method: str) -> None:
        super().__init__(f"Endpoint does not support RPC method {method}")
        self.method = method


class UnsupportedVersion(DispatcherError):
    def __init__(self, version: str, method: str | None = None) -> None:
        msg = f"Endpoint does not support RPC version {version}"
        if method:
            msg = f"{msg}. Attempted method: {method}"
        super().__init__(msg)
        self.version = version
        self.method = method


class InvalidRequest(RemoteFailure):
    """A request we could not decode or validate; the caller sees RemoteError with the reason."""

    remote_module = "aioconductor.errors"


class ForwardingFailed(RemoteFailure):
    """A request that should go to the legacy conductor could not be delivered to it."""

    remote_module = "aioconductor.errors"


class MessagingTimeout(RemoteFailure):
    remote_module = "oslo_messaging.exceptions"


class RPCVersionCapError(RemoteFailure):
    """oslo's client refusing a message newer than its version cap (raised before sending)."""

    remote_module = "oslo_messaging.rpc.client"

    def __init__(self, version: str, version_cap: str) -> None:
        super().__init__(
            f"Requested message version, {version} is incompatible.  It needs to be equal in "
            "major version and less than or equal in minor version as the specified version "
            f"cap {version_cap}."
        )
        self.version = version
        self.version_cap = version_cap


# --- oslo.versionedobjects errors (module oslo_versionedobjects.exception) -----------------


class VersionedObjectsError(RemoteFailure):
    remote_module = "oslo_versionedobjects.exception"

    def _add_code(self) -> None:
        self.kwargs.setdefault("code", 500)


class UnsupportedObjectError(VersionedObjectsError):
    msg_fmt = "Unsupported object type %(objtype)s"


class IncompatibleObjectVersion(VersionedObjectsError):
    msg_fmt = (
        "Version %(objver)s of %(objname)s is not supported, supported version is %(supported)s"
    )


class InvalidTargetVersion(VersionedObjectsError):
    msg_fmt = "Invalid target version %(version)s"


# --- nova.exception mirrors -----------------------------------------------------------------


class NovaError(RemoteFailure):
    """Mirror of nova.exception.NovaException: rebuilt on nova clients as the real class."""

    remote_module = "nova.exception"
    code: ClassVar[int] = 500

    def _add_code(self) -> None:
        self.kwargs.setdefault("code", self.code)


class NotFound(NovaError):
    msg_fmt = "Resource could not be found."
    code = 404


class Invalid(NovaError):
    msg_fmt = "Bad Request - Invalid Parameters"
    code = 400


class InvalidInput(Invalid):
    msg_fmt = "Invalid input received: %(reason)s"


class ObjectActionError(NovaError):
    msg_fmt = "Object action %(action)s failed because: %(reason)s"


class OrphanedObjectError(NovaError):
    msg_fmt = "Cannot call %(method)s on orphaned %(objtype)s object"


class ServiceNotFound(NotFound):
    msg_fmt = "Service %(service_id)s could not be found."


class HostNotFound(NotFound):
    msg_fmt = "Host %(host)s could not be found."


class ComputeHostNotFound(HostNotFound):
    msg_fmt = "Compute host %(host)s could not be found."


class HostBinaryNotFound(NotFound):
    msg_fmt = "Could not find binary %(binary)s on host %(host)s."


class ServiceBinaryExists(NovaError):
    msg_fmt = "Service with host %(host)s binary %(binary)s exists."


class ServiceTopicExists(NovaError):
    msg_fmt = "Service with host %(host)s topic %(topic)s exists."


class ServiceTooOld(Invalid):
    msg_fmt = (
        "This service is older (v%(thisver)i) than the minimum (v%(minver)i) version of the "
        "rest of the deployment. Unable to continue."
    )


class SelectionObjectsWithOldRPCVersionNotSupported(NovaError):
    msg_fmt = (
        "Requests for Selection objects with alternates are not supported in "
        "select_destinations() before RPC version 4.5; version %(version)s requested."
    )


class AllocationDeleteFailed(NovaError):
    msg_fmt = "Failed to delete allocations for consumer %(consumer_uuid)s. Error: %(error)s"


class AllocationUpdateFailed(NovaError):
    msg_fmt = "Failed to update allocations for consumer %(consumer_uuid)s. Error: %(error)s"


class InstanceNotFound(NotFound):
    msg_fmt = "Instance %(instance_id)s could not be found."


class InstanceExists(NovaError):
    msg_fmt = "Instance %(name)s already exists."


class InstanceUpdateConflict(NovaError):
    msg_fmt = (
        "Conflict updating instance %(instance_uuid)s. Expected: %(expected)s. Actual: %(actual)s"
    )


class UnexpectedTaskStateError(InstanceUpdateConflict):
    pass


class UnexpectedDeletingTaskStateError(UnexpectedTaskStateError):
    pass


class InstanceInfoCacheNotFound(NotFound):
    msg_fmt = "Info cache for instance %(instance_uuid)s could not be found."


class InstanceActionNotFound(NovaError):
    msg_fmt = "Action for request_id %(request_id)s on instance %(instance_uuid)s not found"


class InstanceActionEventNotFound(NovaError):
    msg_fmt = "Event %(event)s not found for action id %(action_id)s"


class MigrationNotFound(NotFound):
    msg_fmt = "Migration %(migration_id)s could not be found."


class BDMNotFound(NotFound):
    msg_fmt = "No Block Device Mapping with id %(id)s."


class PciDeviceNotFound(NotFound):
    msg_fmt = "PCI Device %(node_id)s:%(address)s not found."


class PciDeviceNotFoundById(NotFound):
    msg_fmt = "PCI device %(id)s not found"


class CellMappingNotFound(NotFound):
    msg_fmt = "Cell %(uuid)s has no mapping."


class HostMappingNotFound(Invalid):
    msg_fmt = "Host '%(name)s' is not mapped to any cell"


class UnsupportedPolicyException(Invalid):
    msg_fmt = "ServerGroup policy is not supported: %(reason)s"


class InstanceGroupNotFound(NotFound):
    msg_fmt = "Instance group %(group_uuid)s could not be found."


class InstanceMappingNotFound(NotFound):
    msg_fmt = "Instance %(uuid)s has no mapping to a cell."


class BuildRequestNotFound(NotFound):
    msg_fmt = "BuildRequest not found for instance %(uuid)s"


class OverQuota(NovaError):
    msg_fmt = "Quota exceeded for resources: %(overs)s"
    code = 413


class TooManyInstances(OverQuota):
    msg_fmt = (
        "Quota exceeded for %(overs)s: Requested %(req)s, but already used %(used)s of "
        "%(allowed)s %(overs)s"
    )


class VirtualInterfaceCreateException(NovaError):
    msg_fmt = "Virtual Interface creation failed"


class VirtualInterfaceMacAddressException(NovaError):
    msg_fmt = "Creation of virtual interface with unique mac address failed"


class UnknownInstanceUpdateConflict(InstanceUpdateConflict):
    msg_fmt = (
        "Conflict updating instance %(instance_uuid)s, but we were unable to determine the cause"
    )


# --- oslo.db (module oslo_db.exception) --------------------------------------------------------
# nova-conductor's database errors reach the caller as oslo.db's classes (its engine facade
# translates the driver's errors); nova's clients see them as RemoteError with that class name.


class DBError(RemoteFailure):
    remote_module = "oslo_db.exception"


class DBConnectionError(DBError):
    pass


class DBDeadlock(DBError):
    pass


class DBDuplicateEntry(DBError):
    pass


class DBReferenceError(DBError):
    pass


class DBDataError(DBError):
    pass


class DBInvalidUnicodeParameter(RemoteFailure):
    """A parameter the driver cannot encode (a lone surrogate). Not a DBError in oslo.db."""

    remote_module = "oslo_db.exception"
    msg_fmt = "Invalid Parameter: Encoding directive wasn't provided."
