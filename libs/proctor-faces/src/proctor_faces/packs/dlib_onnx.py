"""dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``) run by onnxruntime.

Same network, same weights, same numbers: the ``.dat`` file is read here, in pure Python/numpy, and
turned into an ONNX graph in memory; nothing is downloaded or converted ahead of time.

How
---
1. **Parse** dlib's binary serialization (``dlib/serialize.h``, ``dlib/dnn/core.h``, ``layers.h``,
   ``input.h``, ``loss.h``, ``cuda/tensor.h``). Integers are one control byte (low nibble = number
   of value bytes, ``0x80`` = negative) then little-endian bytes; strings are such a length then
   the characters; bools are the characters ``'1'``/``'0'``; scalar floats are an int64 mantissa and
   an int16 exponent (``float_details``); tensors are version 2, ``num_samples, k, nr, nc``, then
   raw little-endian float32; alias tensors (shapes only) are version 1 and the four sizes.
   A network is nested: ``add_loss_layer`` (version 1, loss details, subnetwork), and every
   ``add_layer`` / ``add_tag_layer`` / ``add_skip_layer`` writes its version and then its
   subnetwork *first*, so the file holds a run of wrapper versions, the input layer, and then, from
   the bottom of the network up, each ``add_layer``'s layer details (chosen by their type string:
   ``con_4``, ``affine_``, ``relu_``, ...) and trailing fields. Tag and skip layers write nothing but
   their version (1); ``add_layer`` above another layer writes version 2, the one over the input
   layer version 2 or 3. Anything else (unknown type string, bad version, truncated data, a size
   that does not add up) raises ``ValueError`` naming the byte offset.
2. **Resolve** the tags. The file does not say which wrapper is ``tag1``, ``tag2`` or ``skip1`` (in
   C++ that is the network's *type*), so the parsed layers are checked, one by one, against the
   network type of ``examples/dnn_face_recognition_ex.cpp`` (``anet_type``; the same definition is in
   ``tools/python/src/face_recognition.cpp``): layer kinds, filter counts, kernel sizes, strides and
   paddings must all match, and the anonymous wrappers take their tag/skip ids from it.
3. **Build** an ONNX graph (opset 17) that does what dlib's CPU code does:

   - input ``(N, 150, 150, 3)`` RGB (uint8 or float32), ``(x - mean) / 256`` per channel in float32
     with the means stored in the file (122.782, 117.001, 104.298), then NCHW;
   - ``con_``: ``Conv`` (filters then biases in one params tensor, OIHW). Padding is whatever the
     file holds, which for dlib's defaults is ``stride != 1 ? 0 : size/2`` - the stride-2 convs have
     no padding, so an 8x8 map gives 3x3;
   - ``affine_`` (batch norm folded at training time): per-channel ``x * gamma + beta``;
   - ``max_pool_`` / ``avg_pool_``: ``MaxPool`` / ``AveragePool`` (the average over the part of
     the window inside the image, as dlib's ``mean(subm_clipped(...))``), size 0 = global;
   - ``add_prev_`` (``tt::add`` of two tensors): output shape is the element-wise max of the two
     shapes and the smaller operand is zero-padded at the end (channels and spatial). It happens in
     every ``residual_down`` block (32 vs 64 channels; 3x3 conv output vs 4x4 pooled map at 8x8,
     1x1 vs 2x2 at 4x4), and the zeros then count in ``avg_pool_everything``'s mean;
   - ``fc_`` (no bias here): ``Flatten`` then ``MatMul`` by the ``num_inputs x num_outputs`` weights;
   - ``loss_metric_`` outputs the fc output as is: the descriptor is **not** normalised.

``OnnxFaceDescriptor`` wraps this in a single-threaded onnxruntime session;
``compute_face_descriptor(chip)`` mirrors ``dlib.face_recognition_model_v1.compute_face_descriptor``
for one aligned 150x150 RGB chip (``num_jitters`` 0 or 1: one forward pass).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

__all__ = [
    "AddPrev",
    "Affine",
    "Conv",
    "DlibNetwork",
    "Fc",
    "InputRgbImageSized",
    "Layer",
    "LossMetric",
    "OnnxFaceDescriptor",
    "Passthrough",
    "Pool",
    "Relu",
    "Skip",
    "Tag",
    "build_onnx",
    "describe",
    "face_recognition_resnet_v1_layout",
    "load_network",
    "parse_dlib_network",
    "resolve_face_recognition_resnet_v1",
]

FloatArray = npt.NDArray[np.float32]

OPSET = 17
_MAX_WRAPPERS = 10_000


# ---------------------------------------------------------------------------------------------
# layers


@dataclass(frozen=True)
class InputRgbImageSized:
    """``input_rgb_image_sized<NR,NC>``: ``(pixel - avg) / 256`` per channel, planes in R, G, B order."""

    mean_rgb: tuple[float, float, float]
    nr: int
    nc: int


@dataclass(frozen=True)
class LossMetric:
    margin: float
    dist_thresh: float


@dataclass(frozen=True, eq=False)
class Conv:
    weight: FloatArray  # (num_filters, k_in, nr, nc)
    bias: FloatArray | None  # (num_filters,)
    stride: tuple[int, int]  # (y, x)
    padding: tuple[int, int]  # (y, x)
    offset: int = 0

    @property
    def num_filters(self) -> int:
        return int(self.weight.shape[0])

    @property
    def kernel(self) -> tuple[int, int]:
        return int(self.weight.shape[2]), int(self.weight.shape[3])


@dataclass(frozen=True, eq=False)
class Affine:
    gamma: FloatArray  # (k,) in CONV_MODE, (k, nr, nc) in FC_MODE
    beta: FloatArray
    conv_mode: bool
    disabled: bool = False
    offset: int = 0


@dataclass(frozen=True)
class Relu:
    offset: int = 0


@dataclass(frozen=True)
class Pool:
    kind: Literal["max", "avg"]
    size: tuple[int, int]  # (nr, nc); 0 = the whole input
    stride: tuple[int, int]
    padding: tuple[int, int]
    offset: int = 0


@dataclass(frozen=True)
class AddPrev:
    tag: int | None = None  # not in the file: set from the network type
    offset: int = 0


@dataclass(frozen=True, eq=False)
class Fc:
    weight: FloatArray  # (num_inputs, num_outputs)
    bias: FloatArray | None
    offset: int = 0


@dataclass(frozen=True)
class Passthrough:
    """An ``add_tag_layer`` or ``add_skip_layer``: the file holds only its version (1)."""

    offset: int = 0


@dataclass(frozen=True)
class Tag:
    id: int
    offset: int = 0


@dataclass(frozen=True)
class Skip:
    id: int
    offset: int = 0


Layer = Conv | Affine | Relu | Pool | AddPrev | Fc | Passthrough | Tag | Skip


@dataclass
class DlibNetwork:
    """A parsed network: the input layer, the layers from the bottom up, and the loss."""

    input: InputRgbImageSized
    layers: list[Layer]
    loss: LossMetric
    file_size: int = 0


# ---------------------------------------------------------------------------------------------
# dlib serialization primitives


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def _take(self, n: int, what: str) -> memoryview:
        if n < 0 or n > self.remaining:
            raise ValueError(
                f"dlib model file is truncated: {what} needs {n} bytes at offset {self.pos}, "
                f"only {self.remaining} left (file size {len(self.data)})")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def read_int(self, what: str) -> int:
        """dlib's ``pack_int``: control byte (0x0F = byte count, 0x80 = negative), little-endian bytes."""
        start = self.pos
        ctrl = self._take(1, what)[0]
        size = ctrl & 0x0F
        if ctrl & 0x70 or size > 8:
            raise ValueError(f"bad integer control byte 0x{ctrl:02x} at offset {start} while reading {what}")
        value = int.from_bytes(self._take(size, what), "little")
        return -value if ctrl & 0x80 else value

    def read_uint(self, what: str) -> int:
        start = self.pos
        value = self.read_int(what)
        if value < 0:
            raise ValueError(f"negative value {value} at offset {start} for {what}")
        return value

    def read_str(self, what: str) -> str:
        start = self.pos
        n = self.read_uint(f"the length of {what}")
        raw = bytes(self._take(n, what))
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError(f"{what} at offset {start} is not ASCII text: {raw[:40]!r}") from None

    def peek_str(self) -> str | None:
        """The string starting here if the bytes read as a short ASCII string, else None."""
        pos = self.pos
        try:
            n = self.read_uint("")
            if not 0 < n <= 64 or n > self.remaining:
                return None
            raw = bytes(self.data[self.pos:self.pos + n])
            text = raw.decode("ascii") if raw.isascii() else ""
            return text if text.isprintable() and text else None
        except ValueError:
            return None
        finally:
            self.pos = pos

    def read_bool(self, what: str) -> bool:
        start = self.pos
        ch = self._take(1, what)[0]
        if ch not in (ord("0"), ord("1")):
            raise ValueError(f"bad bool byte 0x{ch:02x} at offset {start} while reading {what}")
        return ch == ord("1")

    def read_real(self, what: str) -> float:
        """``float_details``: int64 mantissa * 2**int16 exponent (32000/32001/32002 = inf/-inf/nan)."""
        start = self.pos
        if self.remaining and self.data[self.pos] & 0x70:
            raise ValueError(f"old ASCII float encoding at offset {start} for {what} is not supported")
        mantissa = self.read_int(f"{what} (mantissa)")
        exponent = self.read_int(f"{what} (exponent)")
        if not -(2**63) <= mantissa < 2**63 or not -(2**15) <= exponent < 2**15:
            raise ValueError(f"float out of range at offset {start} for {what}")
        if exponent == 32000:
            return math.inf
        if exponent == 32001:
            return -math.inf
        if exponent == 32002:
            return math.nan
        return math.ldexp(float(mantissa), exponent)

    def read_dims(self, what: str) -> tuple[int, int, int, int]:
        n = self.read_uint(f"{what} num_samples")
        k = self.read_uint(f"{what} k")
        nr = self.read_uint(f"{what} nr")
        nc = self.read_uint(f"{what} nc")
        return n, k, nr, nc

    def read_tensor(self, what: str, *, keep: bool = True) -> FloatArray:
        start = self.pos
        version = self.read_int(f"{what} version")
        if version != 2:
            raise ValueError(f"unexpected tensor version {version} at offset {start} for {what} (dlib writes 2)")
        dims = self.read_dims(what)
        count = dims[0] * dims[1] * dims[2] * dims[3]
        raw = self._take(4 * count, f"{what} ({'x'.join(map(str, dims))} float32 values)")
        if not keep:
            return np.empty((0, 0, 0, 0), np.float32)
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(dims)

    def read_alias(self, what: str) -> tuple[int, int, int, int]:
        start = self.pos
        version = self.read_int(f"{what} version")
        if version != 1:
            raise ValueError(f"unexpected alias_tensor version {version} at offset {start} for {what}")
        return self.read_dims(what)


def _size(dims: tuple[int, ...]) -> int:
    out = 1
    for d in dims:
        out *= d
    return out


def _float32(value: float) -> float:
    return float(np.float32(value))


# ---------------------------------------------------------------------------------------------
# layer details


def _con(r: _Reader, version: str, offset: int) -> Conv:
    params = r.read_tensor("con_ params").reshape(-1)
    num_filters = r.read_int("con_ num_filters")
    nr = r.read_int("con_ nr")
    nc = r.read_int("con_ nc")
    stride_y = r.read_int("con_ stride_y")
    stride_x = r.read_int("con_ stride_x")
    padding_y = r.read_int("con_ padding_y")
    padding_x = r.read_int("con_ padding_x")
    filters = r.read_alias("con_ filters")
    biases = r.read_alias("con_ biases")
    for name in ("learning_rate", "weight_decay", "bias_learning_rate", "bias_weight_decay"):
        r.read_real(f"con_ {name}_multiplier")
    use_bias = r.read_bool("con_ use_bias") if version == "con_5" else True
    where = f"{version} at offset {offset}"
    if num_filters <= 0 or stride_y <= 0 or stride_x <= 0 or padding_y < 0 or padding_x < 0:
        raise ValueError(f"{where}: bad hyper-parameters num_filters={num_filters} stride=({stride_y},{stride_x}) "
                         f"padding=({padding_y},{padding_x})")
    if filters[0] != num_filters or (nr and filters[2] != nr) or (nc and filters[3] != nc):
        raise ValueError(f"{where}: filters {filters} do not match num_filters={num_filters}, nr={nr}, nc={nc}")
    fsize = _size(filters)
    expected = fsize + (num_filters if use_bias else 0)
    if params.size != expected:
        raise ValueError(f"{where}: params hold {params.size} values, filters {filters} and "
                         f"{'biases' if use_bias else 'no biases'} need {expected}")
    if use_bias and _size(biases) != num_filters:
        raise ValueError(f"{where}: biases {biases} do not match num_filters={num_filters}")
    return Conv(weight=params[:fsize].reshape(filters), bias=params[fsize:].copy() if use_bias else None,
                stride=(stride_y, stride_x), padding=(padding_y, padding_x), offset=offset)


def _fc(r: _Reader, version: str, offset: int) -> Fc:
    num_outputs = r.read_uint("fc_ num_outputs")
    num_inputs = r.read_uint("fc_ num_inputs")
    params = r.read_tensor("fc_ params").reshape(-1)
    weights = r.read_alias("fc_ weights")
    r.read_alias("fc_ biases")
    bias_mode = r.read_int("fc_ bias_mode")
    for name in ("learning_rate", "weight_decay", "bias_learning_rate", "bias_weight_decay"):
        r.read_real(f"fc_ {name}_multiplier")
    use_bias = r.read_bool("fc_ use_bias") if version == "fc_3" else True
    where = f"{version} at offset {offset}"
    if bias_mode not in (0, 1):
        raise ValueError(f"{where}: unknown fc_bias_mode {bias_mode}")
    has_bias = bias_mode == 0 and use_bias
    if (weights[0], weights[1] * weights[2] * weights[3]) != (num_inputs, num_outputs):
        raise ValueError(f"{where}: weights {weights} are not num_inputs x num_outputs = {num_inputs} x {num_outputs}")
    wsize = num_inputs * num_outputs
    expected = wsize + (num_outputs if has_bias else 0)
    if params.size != expected:
        raise ValueError(f"{where}: params hold {params.size} values, {num_inputs}x{num_outputs} weights "
                         f"{'and biases ' if has_bias else ''}need {expected}")
    return Fc(weight=params[:wsize].reshape(num_inputs, num_outputs),
              bias=params[wsize:].copy() if has_bias else None, offset=offset)


def _affine(r: _Reader, version: str, offset: int) -> Affine:
    params = r.read_tensor("affine_ params").reshape(-1)
    gamma = r.read_alias("affine_ gamma")
    beta = r.read_alias("affine_ beta")
    mode = r.read_int("affine_ mode")
    disabled = r.read_bool("affine_ is_disabled") if version == "affine_2" else False
    where = f"{version} at offset {offset}"
    if mode not in (0, 1):
        raise ValueError(f"{where}: unknown layer_mode {mode}")
    if disabled:
        return Affine(np.empty(0, np.float32), np.empty(0, np.float32), mode == 0, True, offset)
    gsize = _size(gamma)
    if gamma != beta or params.size != 2 * gsize:
        raise ValueError(f"{where}: params hold {params.size} values for gamma {gamma} and beta {beta}")
    shape = (gamma[1],) if mode == 0 else (gamma[1], gamma[2], gamma[3])
    if mode == 0 and gsize != gamma[1]:
        raise ValueError(f"{where}: CONV_MODE gamma {gamma} is not one value per channel")
    return Affine(gamma=params[:gsize].reshape(shape), beta=params[gsize:].reshape(shape), conv_mode=mode == 0,
                  offset=offset)


def _pool(r: _Reader, version: str, offset: int) -> Pool:
    nr = r.read_int(f"{version} nr")
    nc = r.read_int(f"{version} nc")
    stride_y = r.read_int(f"{version} stride_y")
    stride_x = r.read_int(f"{version} stride_x")
    padding_y = r.read_int(f"{version} padding_y")
    padding_x = r.read_int(f"{version} padding_x")
    if min(nr, nc, padding_y, padding_x) < 0 or min(stride_y, stride_x) <= 0:
        raise ValueError(f"{version} at offset {offset}: bad hyper-parameters nr={nr} nc={nc} "
                         f"stride=({stride_y},{stride_x}) padding=({padding_y},{padding_x})")
    return Pool(kind="max" if version.startswith("max") else "avg", size=(nr, nc), stride=(stride_y, stride_x),
                padding=(padding_y, padding_x), offset=offset)


def _details(r: _Reader) -> Conv | Affine | Relu | Pool | AddPrev | Fc:
    offset = r.pos
    kind = r.read_str("layer type")
    if kind in ("con_4", "con_5"):
        return _con(r, kind, offset)
    if kind in ("fc_2", "fc_3"):
        return _fc(r, kind, offset)
    if kind in ("affine_", "affine_2"):
        return _affine(r, kind, offset)
    if kind == "relu_":
        return Relu(offset)
    if kind in ("max_pool_2", "avg_pool_2"):
        return _pool(r, kind, offset)
    if kind == "add_prev_":
        return AddPrev(offset=offset)
    raise ValueError(f"unknown or unsupported dlib layer type {kind!r} at offset {offset}")


def _input_layer(r: _Reader) -> InputRgbImageSized:
    offset = r.pos
    kind = r.read_str("input layer type")
    if kind != "input_rgb_image_sized":
        raise ValueError(f"unsupported dlib input layer {kind!r} at offset {offset}")
    # avg_red/green/blue are floats in dlib: the value is rounded to float32 when read
    mean = (_float32(r.read_real("avg_red")), _float32(r.read_real("avg_green")), _float32(r.read_real("avg_blue")))
    nr = r.read_uint("input NR")
    nc = r.read_uint("input NC")
    if nr == 0 or nc == 0:
        raise ValueError(f"input_rgb_image_sized at offset {offset} has size {nr}x{nc}")
    return InputRgbImageSized(mean_rgb=mean, nr=nr, nc=nc)


def _add_layer_trailer(r: _Reader, version: int, over_input: bool) -> None:
    for name in ("this_layer_setup_called", "gradient_input_is_stale", "get_output_and_gradient_input_disabled"):
        r.read_bool(f"add_layer {name}")
    r.read_tensor("add_layer x_grad", keep=False)
    r.read_tensor("add_layer cached_output", keep=False)
    if over_input:
        r.read_tensor("add_layer grad_final", keep=False)
        if version >= 3:
            r.read_uint("add_layer sample_expansion_factor")
    elif version >= 2:
        r.read_tensor("add_layer params_grad", keep=False)


def parse_dlib_network(data: bytes) -> DlibNetwork:
    """Parse a serialized ``add_loss_layer<loss_metric_, ...>`` network (structure only, no tags)."""
    r = _Reader(data)
    version = r.read_int("add_loss_layer version")
    if version != 1:
        raise ValueError(f"not a dlib network file: add_loss_layer version {version} at offset 0 (expected 1)")
    loss_offset = r.pos
    loss_kind = r.read_str("loss layer type")
    if loss_kind == "loss_metric_2":
        margin = r.read_real("loss_metric_ margin")
        loss = LossMetric(margin=margin, dist_thresh=r.read_real("loss_metric_ dist_thresh"))
    elif loss_kind == "loss_metric_":
        loss = LossMetric(margin=0.1, dist_thresh=0.75)
    else:
        raise ValueError(f"unsupported dlib loss layer {loss_kind!r} at offset {loss_offset} (expected loss_metric_)")

    # Every wrapper writes its version, then its subnetwork: a run of small ints up to the input layer.
    wrappers: list[tuple[int, int]] = []
    while True:
        peek = r.peek_str()
        if peek is not None and peek.startswith("input"):
            break
        offset = r.pos
        wrapper_version = r.read_int("layer wrapper version")
        if wrapper_version not in (1, 2, 3):
            if wrapper_version > r.remaining:  # the length of a string (the input layer's name) cut short
                raise ValueError(f"dlib model file is truncated: the string at offset {offset} needs "
                                 f"{wrapper_version} bytes, only {r.remaining} left (file size {len(data)})")
            what = f" (the bytes there read as the string {peek!r}: not a supported input layer)" if peek else ""
            raise ValueError(f"expected a layer version (1-3) or the input layer at offset {offset}, "
                             f"found {wrapper_version}{what}")
        wrappers.append((offset, wrapper_version))
        if len(wrappers) > _MAX_WRAPPERS:
            raise ValueError(f"more than {_MAX_WRAPPERS} nested layers: not a dlib network file")
    if not wrappers:
        raise ValueError("the network has no layer above its input layer")
    input_layer = _input_layer(r)

    layers: list[Layer] = []
    offset, wrapper_version = wrappers.pop()
    if wrapper_version not in (2, 3):
        raise ValueError(f"the layer over the input layer (offset {offset}) has version {wrapper_version}; "
                         "dlib's add_layer writes 2 or 3 there (a tag on the input layer is not supported)")
    layers.append(_details(r))
    _add_layer_trailer(r, wrapper_version, over_input=True)
    for offset, wrapper_version in reversed(wrappers):
        # 1 = add_tag_layer / add_skip_layer. An add_layer written as version 1 (without params_grad, by
        # an older dlib than the one that wrote this model) would be taken for one as well; the check
        # against the network type then fails, so such a file is refused rather than misread.
        if wrapper_version == 1:
            layers.append(Passthrough(offset))
        elif wrapper_version == 2:
            layers.append(_details(r))
            _add_layer_trailer(r, wrapper_version, over_input=False)
        else:
            raise ValueError(f"unexpected add_layer version {wrapper_version} at offset {offset}")
    if r.remaining:
        raise ValueError(f"{r.remaining} unexpected bytes after the network at offset {r.pos}")
    return DlibNetwork(input=input_layer, layers=layers, loss=loss, file_size=len(data))


# ---------------------------------------------------------------------------------------------
# the network type of dnn_face_recognition_ex.cpp


def _default_padding(size: int, stride: int) -> int:
    return 0 if stride != 1 else size // 2


def face_recognition_resnet_v1_layout() -> list[tuple[str, ...]]:
    """``anet_type`` of ``examples/dnn_face_recognition_ex.cpp``, bottom-up, one entry per wrapper.

    ``residual`` = ``add_prev1<block<tag1<SUBNET>>>``, ``residual_down`` =
    ``add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<stride 2, tag1<SUBNET>>>>>>``, ``block`` =
    ``affine<con<N,3,3,1,1,relu<affine<con<N,3,3,stride,stride,SUBNET>>>>>``, each followed by relu.
    """
    layout: list[tuple[str, ...]] = [("con", "32", "7", "2"), ("affine",), ("relu",), ("max_pool", "3", "2")]

    def ares(n: int, down: bool) -> None:
        stride = "2" if down else "1"
        layout.extend([("tag", "1"), ("con", str(n), "3", stride), ("affine",), ("relu",),
                       ("con", str(n), "3", "1"), ("affine",)])
        if down:
            layout.extend([("tag", "2"), ("skip", "1"), ("avg_pool", "2", "2"), ("add_prev", "2")])
        else:
            layout.append(("add_prev", "1"))
        layout.append(("relu",))

    for n, count, down in ((32, 3, False), (64, 3, True), (128, 2, True), (256, 2, True), (256, 0, True)):
        if down:
            ares(n, True)
        for _ in range(count):
            ares(n, False)
    layout.extend([("avg_pool", "0", "1"), ("fc", "128")])
    return layout


def _check_square(layer: Conv | Pool, size: tuple[int, int], want: tuple[str, ...], index: int) -> None:
    k, s = int(want[-2]), int(want[-1])
    pad = _default_padding(k, s)
    if size != (k, k) or layer.stride != (s, s) or layer.padding != (pad, pad):
        raise ValueError(f"layer {index} (offset {layer.offset}): size {size} stride {layer.stride} padding "
                         f"{layer.padding}, the network type has {k}x{k} stride {s} padding {pad}")


def resolve_face_recognition_resnet_v1(net: DlibNetwork) -> DlibNetwork:
    """Check the parsed layers against ``anet_type`` and give the tag/skip/add_prev layers their ids."""
    layout = face_recognition_resnet_v1_layout()
    if len(net.layers) != len(layout):
        raise ValueError(f"the file holds {len(net.layers)} layers, dlib_face_recognition_resnet_model_v1's "
                         f"network type has {len(layout)}")
    if (net.input.nr, net.input.nc) != (150, 150):
        raise ValueError(f"input_rgb_image_sized is {net.input.nr}x{net.input.nc}, the network type has 150x150")
    out: list[Layer] = []
    for i, (layer, want) in enumerate(zip(net.layers, layout, strict=True)):
        kind = want[0]
        mismatch = ValueError(f"layer {i} (offset {layer.offset}) is {type(layer).__name__}, "
                              f"the network type has {kind} there")
        if kind in ("tag", "skip"):
            if not isinstance(layer, Passthrough):
                raise mismatch
            out.append(Tag(int(want[1]), layer.offset) if kind == "tag" else Skip(int(want[1]), layer.offset))
        elif kind == "add_prev":
            if not isinstance(layer, AddPrev):
                raise mismatch
            out.append(AddPrev(int(want[1]), layer.offset))
        elif kind == "con":
            if not isinstance(layer, Conv) or layer.bias is None:
                raise mismatch
            if layer.num_filters != int(want[1]):
                raise ValueError(f"layer {i} (offset {layer.offset}): {layer.num_filters} filters, "
                                 f"the network type has {want[1]}")
            _check_square(layer, layer.kernel, want, i)
            out.append(layer)
        elif kind == "affine":
            if not isinstance(layer, Affine) or not layer.conv_mode or layer.disabled:
                raise mismatch
            out.append(layer)
        elif kind == "relu":
            if not isinstance(layer, Relu):
                raise mismatch
            out.append(layer)
        elif kind in ("max_pool", "avg_pool"):
            if not isinstance(layer, Pool) or layer.kind != kind[:3]:
                raise mismatch
            if want[1] == "0":  # avg_pool_everything: avg_pool_<0,0,1,1>
                if layer.size != (0, 0) or layer.stride != (1, 1) or layer.padding != (0, 0):
                    raise ValueError(f"layer {i} (offset {layer.offset}) is not avg_pool_everything")
            else:
                _check_square(layer, layer.size, want, i)
            out.append(layer)
        elif kind == "fc":
            if not isinstance(layer, Fc) or layer.bias is not None:
                raise mismatch
            if layer.weight.shape[1] != int(want[1]):
                raise ValueError(f"layer {i} (offset {layer.offset}): fc_no_bias with {layer.weight.shape[1]} "
                                 f"outputs, the network type has {want[1]}")
            out.append(layer)
        else:  # pragma: no cover - the layout only holds the kinds above
            raise mismatch
    return DlibNetwork(input=net.input, layers=out, loss=net.loss, file_size=net.file_size)


def load_network(path: Path) -> DlibNetwork:
    """Read, parse and resolve ``dlib_face_recognition_resnet_model_v1.dat``."""
    return resolve_face_recognition_resnet_v1(parse_dlib_network(Path(path).read_bytes()))


# ---------------------------------------------------------------------------------------------
# ONNX


class _GraphBuilder:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._n = 0

    def name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_{self._n}"

    def const(self, array: npt.NDArray[np.generic], prefix: str) -> str:
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], prefix: str, **attrs: Any) -> str:
        out = self.name(prefix)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


Shape = tuple[int, int, int]  # (k, nr, nc) of one sample


def _pool_out(n: int, size: int, stride: int, pad: int) -> int:
    return 1 + (n + 2 * pad - size) // stride


def _pad_to(g: _GraphBuilder, x: str, shape: Shape, target: Shape) -> str:
    """Zero-pad at the end of k, nr, nc, as dlib's ``tt::add`` treats missing elements as 0."""
    if shape == target:
        return x
    ends = [t - s for s, t in zip(shape, target, strict=True)]
    pads = g.const(np.array([0, 0, 0, 0, 0, *ends], np.int64), "pads")
    return g.node("Pad", [x, pads], "zero_pad", mode="constant")


def build_onnx(net: DlibNetwork, input_dtype: Literal["uint8", "float32"] = "uint8") -> onnx.ModelProto:
    """The ONNX graph of a resolved network: ``(N, NR, NC, 3)`` RGB in, ``(N, num_outputs)`` float32 out."""
    g = _GraphBuilder()
    inp = net.input
    elem = TensorProto.UINT8 if input_dtype == "uint8" else TensorProto.FLOAT
    x = "chips"
    if input_dtype == "uint8":
        x = g.node("Cast", [x], "to_float", to=TensorProto.FLOAT)
    x = g.node("Transpose", [x], "nchw", perm=[0, 3, 1, 2])
    mean = np.array(inp.mean_rgb, np.float32).reshape(1, 3, 1, 1)
    x = g.node("Sub", [x, g.const(mean, "mean_rgb")], "centred")
    # dlib divides by 256.0: a power of two, so multiplying by 1/256 gives the same float32 bits
    x = g.node("Mul", [x, g.const(np.array(1.0 / 256.0, np.float32), "inv256")], "scaled")
    shape: Shape = (3, inp.nr, inp.nc)
    tags: dict[int, tuple[str, Shape]] = {}

    for i, layer in enumerate(net.layers):
        where = f"layer {i} (offset {layer.offset})"
        if isinstance(layer, Conv):
            k_out, k_in, kh, kw = layer.weight.shape
            if k_in != shape[0]:
                raise ValueError(f"{where}: filters expect {k_in} channels, the input has {shape[0]}")
            (sy, sx), (py, px) = layer.stride, layer.padding
            if kh > shape[1] + 2 * py or kw > shape[2] + 2 * px:
                raise ValueError(f"{where}: {kh}x{kw} filters do not fit a {shape[1]}x{shape[2]} input")
            inputs = [x, g.const(layer.weight, "conv_w")]
            if layer.bias is not None:
                inputs.append(g.const(layer.bias, "conv_b"))
            x = g.node("Conv", inputs, "conv", kernel_shape=[kh, kw], strides=[sy, sx], pads=[py, px, py, px])
            shape = (k_out, _pool_out(shape[1], kh, sy, py), _pool_out(shape[2], kw, sx, px))
        elif isinstance(layer, Affine):
            if layer.disabled:
                continue
            if layer.conv_mode:
                if layer.gamma.shape[0] != shape[0]:
                    raise ValueError(f"{where}: affine_ has {layer.gamma.shape[0]} channels, the input {shape[0]}")
                gamma, beta = layer.gamma.reshape(1, -1, 1, 1), layer.beta.reshape(1, -1, 1, 1)
            else:
                if layer.gamma.shape != shape:
                    raise ValueError(f"{where}: affine_ (FC_MODE) is {layer.gamma.shape}, the input {shape}")
                gamma, beta = layer.gamma[None], layer.beta[None]
            x = g.node("Mul", [x, g.const(gamma, "gamma")], "affine_mul")
            x = g.node("Add", [x, g.const(beta, "beta")], "affine_add")
        elif isinstance(layer, Relu):
            x = g.node("Relu", [x], "relu")
        elif isinstance(layer, Pool):
            (nr, nc), (sy, sx), (py, px) = layer.size, layer.stride, layer.padding
            if nr == 0 and nc == 0 and (sy, sx, py, px) == (1, 1, 0, 0):
                x = g.node("GlobalMaxPool" if layer.kind == "max" else "GlobalAveragePool", [x], f"{layer.kind}_all")
                shape = (shape[0], 1, 1)
                continue
            nr, nc = nr or shape[1], nc or shape[2]
            if nr > shape[1] + 2 * py or nc > shape[2] + 2 * px or py >= nr or px >= nc:
                raise ValueError(f"{where}: a {nr}x{nc} pooling window does not fit a {shape[1]}x{shape[2]} input")
            attrs: dict[str, Any] = {"kernel_shape": [nr, nc], "strides": [sy, sx], "pads": [py, px, py, px]}
            if layer.kind == "avg":
                attrs["count_include_pad"] = 0  # dlib: mean(subm_clipped(...)), padding not counted
            x = g.node("MaxPool" if layer.kind == "max" else "AveragePool", [x], f"{layer.kind}_pool", **attrs)
            shape = (shape[0], _pool_out(shape[1], nr, sy, py), _pool_out(shape[2], nc, sx, px))
        elif isinstance(layer, Tag):
            tags[layer.id] = (x, shape)
        elif isinstance(layer, Skip):
            if layer.id not in tags:
                raise ValueError(f"{where}: skip{layer.id} has no tag{layer.id} below it")
            x, shape = tags[layer.id]
        elif isinstance(layer, AddPrev):
            if layer.tag is None or layer.tag not in tags:
                raise ValueError(f"{where}: add_prev{layer.tag} has no matching tag below it")
            other, other_shape = tags[layer.tag]
            target: Shape = (max(shape[0], other_shape[0]), max(shape[1], other_shape[1]),
                             max(shape[2], other_shape[2]))
            x = g.node("Add", [_pad_to(g, x, shape, target), _pad_to(g, other, other_shape, target)], "add_prev")
            shape = target
        elif isinstance(layer, Fc):
            num_inputs, num_outputs = layer.weight.shape
            if num_inputs != shape[0] * shape[1] * shape[2]:
                raise ValueError(f"{where}: fc_ takes {num_inputs} inputs, the layer below gives {shape}")
            x = g.node("Flatten", [x], "flat", axis=1)
            x = g.node("MatMul", [x, g.const(layer.weight, "fc_w")], "fc")
            if layer.bias is not None:
                x = g.node("Add", [x, g.const(layer.bias.reshape(1, -1), "fc_b")], "fc_bias")
            shape = (num_outputs, 1, 1)
        else:
            raise ValueError(f"{where}: {type(layer).__name__} must be resolved to a tag or skip layer first")

    if shape[1:] != (1, 1):
        raise ValueError(f"the network ends with a {shape} tensor, loss_metric_ expects one vector per sample")
    g.nodes.append(helper.make_node("Identity", [x], ["descriptors"], name="descriptors"))
    graph = helper.make_graph(
        g.nodes, "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("chips", elem, ["N", inp.nr, inp.nc, 3])],
        [helper.make_tensor_value_info("descriptors", TensorProto.FLOAT, ["N", shape[0]])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="proctor_faces.packs.dlib_onnx")
    model.ir_version = 8
    return model


# ---------------------------------------------------------------------------------------------
# runtime


class OnnxFaceDescriptor:
    """dlib's ``face_recognition_model_v1`` on onnxruntime (one thread, CPU).

    Parses the ``.dat`` file and builds the graph in memory (no file written, no network access);
    only the session keeps the weights afterwards.
    """

    def __init__(self, path: Path) -> None:
        network = load_network(path)
        self.summary = describe(network)
        self.size = (network.input.nr, network.input.nc)
        model_bytes = build_onnx(network, "uint8").SerializeToString()
        del network
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(model_bytes, sess_options=opts, providers=["CPUExecutionProvider"])

    def compute_face_descriptors(self, chips_rgb: npt.NDArray[np.uint8]) -> FloatArray:
        """``(N, 150, 150, 3)`` uint8 RGB chips -> ``(N, 128)`` float32 (not normalised, as dlib)."""
        chips = np.asarray(chips_rgb)
        if chips.dtype != np.uint8 or chips.ndim != 4 or chips.shape[1:] != (*self.size, 3):
            raise ValueError(f"expected uint8 RGB chips of shape (N, {self.size[0]}, {self.size[1]}, 3), "
                             f"got {chips.dtype} {chips.shape}")
        out = self.session.run(["descriptors"], {"chips": np.ascontiguousarray(chips)})[0]
        return np.asarray(out, np.float32)

    def compute_face_descriptor(self, chip_rgb: npt.NDArray[np.uint8], num_jitters: int = 0) -> FloatArray:
        """One aligned 150x150 RGB chip -> its 128-D descriptor, as dlib's ``compute_face_descriptor(chip)``."""
        if num_jitters > 1:
            raise ValueError("num_jitters > 1 (random jittering) is not supported; dlib's default is 0")
        chip = np.asarray(chip_rgb)
        if chip.ndim != 3:
            raise ValueError(f"expected one {self.size[0]}x{self.size[1]}x3 uint8 RGB chip, got shape {chip.shape}")
        out: FloatArray = self.compute_face_descriptors(chip[None])[0]
        return out


def _fmt_floats(values: tuple[float, ...]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def describe(net: DlibNetwork) -> str:
    """One line per kind of layer: for logs and debugging."""
    counts: dict[str, int] = {}
    for layer in net.layers:
        counts[type(layer).__name__] = counts.get(type(layer).__name__, 0) + 1
    parts = ", ".join(f"{k} x{v}" for k, v in counts.items())
    return (f"input {net.input.nr}x{net.input.nc} mean ({_fmt_floats(net.input.mean_rgb)}); {parts}; "
            f"loss_metric margin {net.loss.margin:g} dist_thresh {net.loss.dist_thresh:g}")
