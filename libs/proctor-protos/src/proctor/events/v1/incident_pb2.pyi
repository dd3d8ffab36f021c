from proctor.common.v1 import common_pb2 as _common_pb2
from proctor.events.v1 import meta_pb2 as _meta_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IncidentChange(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INCIDENT_CHANGE_UNSPECIFIED: _ClassVar[IncidentChange]
    INCIDENT_CHANGE_OPENED: _ClassVar[IncidentChange]
    INCIDENT_CHANGE_UPDATED: _ClassVar[IncidentChange]
    INCIDENT_CHANGE_CLOSED: _ClassVar[IncidentChange]
INCIDENT_CHANGE_UNSPECIFIED: IncidentChange
INCIDENT_CHANGE_OPENED: IncidentChange
INCIDENT_CHANGE_UPDATED: IncidentChange
INCIDENT_CHANGE_CLOSED: IncidentChange

class IncidentEvent(_message.Message):
    __slots__ = ("meta", "change", "incident", "revision")
    META_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    meta: _meta_pb2.EventMeta
    change: IncidentChange
    incident: _common_pb2.Incident
    revision: int
    def __init__(self, meta: _Optional[_Union[_meta_pb2.EventMeta, _Mapping]] = ..., change: _Optional[_Union[IncidentChange, str]] = ..., incident: _Optional[_Union[_common_pb2.Incident, _Mapping]] = ..., revision: _Optional[int] = ...) -> None: ...
