from proctor.common.v1 import common_pb2 as _common_pb2
from proctor.events.v1 import meta_pb2 as _meta_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HelpMessage(_message.Message):
    __slots__ = ("meta", "message")
    META_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    meta: _meta_pb2.EventMeta
    message: _common_pb2.ChatMessage
    def __init__(self, meta: _Optional[_Union[_meta_pb2.EventMeta, _Mapping]] = ..., message: _Optional[_Union[_common_pb2.ChatMessage, _Mapping]] = ...) -> None: ...

class Notification(_message.Message):
    __slots__ = ("meta", "notice")
    META_FIELD_NUMBER: _ClassVar[int]
    NOTICE_FIELD_NUMBER: _ClassVar[int]
    meta: _meta_pb2.EventMeta
    notice: _common_pb2.Notice
    def __init__(self, meta: _Optional[_Union[_meta_pb2.EventMeta, _Mapping]] = ..., notice: _Optional[_Union[_common_pb2.Notice, _Mapping]] = ...) -> None: ...
