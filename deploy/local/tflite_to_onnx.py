#!/usr/bin/env python3
"""Converts the MediaPipe person models shipped as TFLite files to ONNX, so the Rust
worker can run them with the onnxruntime it already loads for the bib recognizer.

Used by deploy/local/install-models.sh on `selfie_segmentation.tflite` and
`pose_detection.tflite` taken from the PyPI wheel mediapipe==0.10.14 (Apache-2.0).
It is deliberately small and pure Python: it needs only the PyPI packages `tflite`
(2.18.0, the flatbuffer schema), `onnx` and `numpy` -- no TensorFlow.

It is not a general converter. It reads the first subgraph of a float32 model with one
float32 NHWC input and writes an ONNX opset-17 graph whose input is named `input` and
keeps the TFLite shape (NHWC); each output keeps its TFLite name and shape (rank-4
outputs stay NHWC). Inside, the graph runs NCHW, as ONNX convolutions require.

Supported TFLite ops: CONV_2D, DEPTHWISE_CONV_2D, ADD, MUL, PAD, DEPTH_TO_SPACE,
RESIZE_BILINEAR, RESHAPE, CONCATENATION, MAX_POOL_2D, AVERAGE_POOL_2D, LOGISTIC, RELU,
HARD_SWISH, the custom op Convolution2DTransposeBias (MediaPipe's transposed
convolution), and, on constant weights only, DEQUANTIZE (float16 -> float32) and
DENSIFY (sparse weights). Fused activations: NONE, RELU, RELU_N1_TO_1, RELU6, TANH.
Anything else -- another op, another activation, quantized (int8/uint8) tensors, a
second input or subgraph, a broadcast this converter does not map into NCHW -- stops
the conversion with an error naming it (exit status 1); it never writes a model it is
unsure of.

Checked against TensorFlow Lite's own interpreter (tf.lite.Interpreter) on a real
photo: for selfie_segmentation, pose_detection and pose_landmark_full from mediapipe
0.10.14 the ONNX outputs under onnxruntime 1.32 matched the TFLite outputs to 1e-3
(max absolute difference).

Usage: python3 tflite_to_onnx.py IN.tflite OUT.onnx
"""
import struct
import sys

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper
from tflite.BuiltinOperator import BuiltinOperator

OPNAMES = {v: k for k, v in BuiltinOperator.__dict__.items() if not k.startswith('_')}
# tflite.TensorType -> numpy dtype (only the types whose raw bytes we may read).
TFL_DT = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64,
          6: np.bool_, 7: np.int16, 9: np.int8}
FLOAT32 = 0
FLOAT16 = 1
# tflite.Padding
SAME = 0


class Unsupported(Exception):
    """The model uses something this converter does not translate."""


def opt(op, cls):
    o = cls()
    t = op.BuiltinOptions()
    o.Init(t.Bytes, t.Pos)
    return o


def int_vec(union_type, table):
    # tflite.SparseIndexVector: 1 Int32Vector, 2 Uint16Vector, 3 Uint8Vector
    classes = {1: tflite.Int32Vector, 2: tflite.Uint16Vector, 3: tflite.Uint8Vector}
    if union_type not in classes:
        raise Unsupported('sparse index vector type %d' % union_type)
    v = classes[union_type]()
    v.Init(table.Bytes, table.Pos)
    return v.ValuesAsNumpy()


def densify(t, values):
    """Expands a sparse constant tensor (TFLite sparsity metadata) into a dense array."""
    sp = t.Sparsity()
    shape = t.ShapeAsNumpy().tolist()
    rank = len(shape)
    trav = sp.TraversalOrderAsNumpy().tolist()
    bmap = sp.BlockMapAsNumpy().tolist() if sp.BlockMapLength() else []
    dims = []
    for i in range(sp.DimMetadataLength()):
        dm = sp.DimMetadata(i)
        if dm.Format() == 0:  # DENSE
            dims.append(('d', dm.DenseSize()))
        else:  # SPARSE_CSR
            segs = int_vec(dm.ArraySegmentsType(), dm.ArraySegments())
            inds = int_vec(dm.ArrayIndicesType(), dm.ArrayIndices())
            dims.append(('s', segs, inds))
    # block size of every expanded (block) dimension
    bsize = {}
    for lvl, d in enumerate(trav):
        if d >= rank:
            bsize[d] = dims[lvl][1]
    out = np.zeros(shape, dtype=values.dtype)
    n = len(trav)
    idx = [0] * n
    ptr = [0]

    def rec(level, prev):
        if level == n:
            exp = [0] * n
            for lv, d in enumerate(trav):
                exp[d] = idx[lv]
            orig = exp[:rank]
            for k, od in enumerate(bmap):
                orig[od] = orig[od] * bsize[rank + k] + exp[rank + k]
            out[tuple(orig)] = values[ptr[0]]
            ptr[0] += 1
            return
        dm = dims[level]
        if dm[0] == 'd':
            for i in range(dm[1]):
                idx[level] = i
                rec(level + 1, prev * dm[1] + i)
        else:
            segs, inds = dm[1], dm[2]
            for i in range(segs[prev], segs[prev + 1]):
                idx[level] = int(inds[i])
                rec(level + 1, i)
    rec(0, 0)
    if ptr[0] != len(values):
        raise Unsupported('sparse tensor %s: %d values, %d placed'
                          % (t.Name().decode(), len(values), ptr[0]))
    return out


def same_pads(inp, k, s, dil=1):
    """TensorFlow SAME padding (begin, end) for one spatial axis."""
    out = -(-inp // s)
    tot = max((out - 1) * s + (k - 1) * dil + 1 - inp, 0)
    return tot // 2, tot - tot // 2


class Converter:
    def __init__(self, path):
        with open(path, 'rb') as f:
            self.buf = f.read()
        self.m = tflite.Model.GetRootAsModel(self.buf, 0)
        if self.m.SubgraphsLength() != 1:
            raise Unsupported('%d subgraphs (only one is converted)' % self.m.SubgraphsLength())
        self.g = self.m.Subgraphs(0)
        self.nodes, self.inits = [], []
        self.const = {}   # tensor index -> np array, TFLite (NHWC) layout
        self.cnt = 0

    def tname(self, i):
        return 't%d_' % i + self.g.Tensors(i).Name().decode().replace(':', '_')

    def shape(self, i):
        return self.g.Tensors(i).ShapeAsNumpy().tolist()

    def uniq(self, base):
        self.cnt += 1
        return '%s__%d' % (base, self.cnt)

    def raw(self, i):
        t = self.g.Tensors(i)
        b = self.m.Buffers(t.Buffer())
        if b.DataLength() == 0:
            return None
        if t.Type() not in TFL_DT:
            raise Unsupported('tensor %s of TFLite type %d' % (t.Name().decode(), t.Type()))
        a = b.DataAsNumpy().view(TFL_DT[t.Type()])
        if t.Sparsity() is None:
            a = a.reshape(t.ShapeAsNumpy().tolist() or [])
        return a

    def weight(self, i, what):
        """A constant float tensor (weights, bias) as float32."""
        if i not in self.const:
            raise Unsupported('%s %s is not a constant' % (what, self.tname(i)))
        a = self.const[i]
        if a.dtype not in (np.float32, np.float16):
            raise Unsupported('%s %s has dtype %s (quantized weights)' % (what, self.tname(i), a.dtype))
        return a.astype(np.float32)

    def init(self, arr, base='c'):
        n = self.uniq(base)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), n))
        return n

    def node(self, op, ins, outs, **kw):
        self.nodes.append(helper.make_node(op, ins, outs, name=self.uniq(op), **kw))

    def act(self, x, a, out):
        """Applies a TFLite fused activation (tflite.ActivationFunctionType)."""
        if a == 0:    # NONE
            self.node('Identity', [x], [out])
        elif a == 1:  # RELU
            self.node('Relu', [x], [out])
        elif a == 2:  # RELU_N1_TO_1
            self.node('Clip', [x, self.init(np.float32(-1)), self.init(np.float32(1))], [out])
        elif a == 3:  # RELU6
            self.node('Clip', [x, self.init(np.float32(0)), self.init(np.float32(6))], [out])
        elif a == 4:  # TANH
            self.node('Tanh', [x], [out])
        else:
            raise Unsupported('fused activation %d' % a)

    def inp(self, i, bcast_rank=4):
        """Name of tensor i as usable in the NCHW graph; constants become initializers,
        laid out so that they broadcast against a tensor of rank bcast_rank."""
        if i not in self.const:
            r = len(self.shape(i))
            if r != bcast_rank:
                raise Unsupported('rank-%d tensor %s broadcast against rank %d'
                                  % (r, self.tname(i), bcast_rank))
            return self.tname(i)
        a = self.const[i]
        if a.dtype == np.float16:
            a = a.astype(np.float32)
        if bcast_rank == 4:
            if a.ndim == 4:
                a = a.transpose(0, 3, 1, 2)
            elif a.ndim == 3:
                a = a.transpose(2, 0, 1)
            elif a.ndim == 1:
                a = a.reshape(-1, 1, 1)
            elif a.ndim != 0:
                raise Unsupported('rank-%d constant %s broadcast against an NHWC tensor'
                                  % (a.ndim, self.tname(i)))
        return self.init(a)

    def run(self):
        g = self.g
        if g.InputsLength() != 1:
            raise Unsupported('%d graph inputs (only one is supported)' % g.InputsLength())
        for ti in range(g.TensorsLength()):
            r = self.raw(ti)
            if r is not None:
                self.const[ti] = r
        gin = g.Inputs(0)
        ishape = self.shape(gin)
        if len(ishape) != 4 or g.Tensors(gin).Type() != FLOAT32:
            raise Unsupported('graph input must be a float32 NHWC tensor, got shape %s type %d'
                              % (ishape, g.Tensors(gin).Type()))
        onnx_in = helper.make_tensor_value_info('input', TensorProto.FLOAT, ishape)
        self.node('Transpose', ['input'], [self.tname(gin)], perm=[0, 3, 1, 2])
        for oi in range(g.OperatorsLength()):
            self.convert_op(g.Operators(oi))
        outputs = []
        for k in range(g.OutputsLength()):
            ti = g.Outputs(k)
            if g.Tensors(ti).Type() != FLOAT32:
                raise Unsupported('graph output %s is not float32' % self.tname(ti))
            sh = self.shape(ti)
            oname = g.Tensors(ti).Name().decode()
            if len(sh) == 4:
                self.node('Transpose', [self.tname(ti)], [oname], perm=[0, 2, 3, 1])
            else:
                self.node('Identity', [self.tname(ti)], [oname])
            outputs.append(helper.make_tensor_value_info(oname, TensorProto.FLOAT, sh))
        graph = helper.make_graph(self.nodes, 'converted', [onnx_in], outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)],
                                  producer_name='finishline-tflite_to_onnx')
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model

    def convert_op(self, op):
        g = self.g
        oc = self.m.OperatorCodes(op.OpcodeIndex())
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        name = OPNAMES.get(code, 'builtin op %d' % code)
        ins = op.InputsAsNumpy().tolist()
        outs = op.OutputsAsNumpy().tolist()
        if len(outs) != 1:
            raise Unsupported('%s with %d outputs' % (name, len(outs)))
        o = outs[0]
        on = self.tname(o)
        if name not in ('DEQUANTIZE', 'DENSIFY') and g.Tensors(o).Type() != FLOAT32:
            raise Unsupported('%s produces %s of TFLite type %d (only float32 activations)'
                              % (name, on, g.Tensors(o).Type()))
        if name == 'DEQUANTIZE':
            if ins[0] not in self.const or self.const[ins[0]].dtype != np.float16:
                raise Unsupported('DEQUANTIZE of %s (only constant float16 weights)' % self.tname(ins[0]))
            self.const[o] = self.const[ins[0]].astype(np.float32)
        elif name == 'DENSIFY':
            if ins[0] not in self.const:
                raise Unsupported('DENSIFY of non-constant %s' % self.tname(ins[0]))
            self.const[o] = densify(g.Tensors(ins[0]), self.const[ins[0]])
        elif name in ('CONV_2D', 'DEPTHWISE_CONV_2D'):
            dw = name == 'DEPTHWISE_CONV_2D'
            p = opt(op, tflite.DepthwiseConv2DOptions if dw else tflite.Conv2DOptions)
            w = self.weight(ins[1], name + ' weights')
            ish = self.shape(ins[0])
            kh, kw = w.shape[1], w.shape[2]
            sh, sw = p.StrideH(), p.StrideW()
            dh, dwl = p.DilationHFactor(), p.DilationWFactor()
            if dw:
                if w.shape[3] != ish[3]:
                    raise Unsupported('DEPTHWISE_CONV_2D with depth multiplier (%s)' % on)
                wo = w.transpose(3, 0, 1, 2)  # [1,kh,kw,C] -> [C,1,kh,kw]
                group = ish[3]
            else:
                wo = w.transpose(0, 3, 1, 2)  # [O,kh,kw,I] -> [O,I,kh,kw]
                group = 1
            if p.Padding() == SAME:
                ph = same_pads(ish[1], kh, sh, dh)
                pw = same_pads(ish[2], kw, sw, dwl)
                pads = [ph[0], pw[0], ph[1], pw[1]]
            else:
                pads = [0, 0, 0, 0]
            cin = [self.inp(ins[0]), self.init(wo, 'w')]
            if len(ins) > 2 and ins[2] >= 0:
                cin.append(self.init(self.weight(ins[2], name + ' bias'), 'b'))
            tmp = self.uniq('conv')
            self.node('Conv', cin, [tmp], kernel_shape=[kh, kw], strides=[sh, sw],
                      dilations=[dh, dwl], pads=pads, group=group)
            self.act(tmp, p.FusedActivationFunction(), on)
        elif name in ('ADD', 'MUL'):
            p = opt(op, tflite.AddOptions if name == 'ADD' else tflite.MulOptions)
            r = len(self.shape(o))
            tmp = self.uniq(name)
            self.node('Add' if name == 'ADD' else 'Mul',
                      [self.inp(ins[0], r), self.inp(ins[1], r)], [tmp])
            self.act(tmp, p.FusedActivationFunction(), on)
        elif name == 'PAD':
            if ins[1] not in self.const:
                raise Unsupported('PAD with non-constant paddings (%s)' % on)
            pd = self.const[ins[1]].astype(np.int64)
            if pd.shape[0] == 4:
                pd = pd[[0, 3, 1, 2]]  # NHWC rows -> NCHW rows
            r = len(self.shape(o))
            self.node('Pad', [self.inp(ins[0], r), self.init(np.concatenate([pd[:, 0], pd[:, 1]]))], [on])
        elif name == 'DEPTH_TO_SPACE':
            p = opt(op, tflite.DepthToSpaceOptions)
            self.node('DepthToSpace', [self.inp(ins[0])], [on], blocksize=p.BlockSize(), mode='DCR')
        elif name == 'RESIZE_BILINEAR':
            p = opt(op, tflite.ResizeBilinearOptions)
            osh = self.shape(o)
            if p.AlignCorners():
                ctm = 'align_corners'
            elif p.HalfPixelCenters():
                ctm = 'half_pixel'
            else:
                ctm = 'asymmetric'
            sizes = np.array([osh[0], osh[3], osh[1], osh[2]], dtype=np.int64)
            self.node('Resize', [self.inp(ins[0]), '', '', self.init(sizes)], [on],
                      mode='linear', coordinate_transformation_mode=ctm)
        elif name == 'RESHAPE':
            ish = self.shape(ins[0])
            osh = self.shape(o)
            x = self.inp(ins[0], len(ish))
            if len(ish) == 4:  # reshape in NHWC order, as TFLite does
                t = self.uniq('nhwc')
                self.node('Transpose', [x], [t], perm=[0, 2, 3, 1])
                x = t
            if len(osh) == 4:
                t = self.uniq('rs')
                self.node('Reshape', [x, self.init(np.array(osh, np.int64))], [t])
                self.node('Transpose', [t], [on], perm=[0, 3, 1, 2])
            else:
                self.node('Reshape', [x, self.init(np.array(osh, np.int64))], [on])
        elif name == 'CONCATENATION':
            p = opt(op, tflite.ConcatenationOptions)
            r = len(self.shape(o))
            ax = p.Axis()
            if ax < 0:
                ax += r
            if r == 4:
                ax = [0, 2, 3, 1][ax]  # NHWC axis -> NCHW axis
            tmp = self.uniq('cat')
            self.node('Concat', [self.inp(i, r) for i in ins], [tmp], axis=ax)
            self.act(tmp, p.FusedActivationFunction(), on)
        elif name in ('MAX_POOL_2D', 'AVERAGE_POOL_2D'):
            p = opt(op, tflite.Pool2DOptions)
            ish = self.shape(ins[0])
            kh, kw, sh, sw = p.FilterHeight(), p.FilterWidth(), p.StrideH(), p.StrideW()
            if p.Padding() == SAME:
                ph = same_pads(ish[1], kh, sh)
                pw = same_pads(ish[2], kw, sw)
                pads = [ph[0], pw[0], ph[1], pw[1]]
            else:
                pads = [0, 0, 0, 0]
            tmp = self.uniq('pool')
            attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw], pads=pads)
            if name == 'AVERAGE_POOL_2D':
                attrs['count_include_pad'] = 0  # TFLite averages over the valid cells only
            self.node('MaxPool' if name == 'MAX_POOL_2D' else 'AveragePool',
                      [self.inp(ins[0])], [tmp], **attrs)
            self.act(tmp, p.FusedActivationFunction(), on)
        elif name == 'LOGISTIC':
            self.node('Sigmoid', [self.inp(ins[0], len(self.shape(o)))], [on])
        elif name == 'RELU':
            self.node('Relu', [self.inp(ins[0], len(self.shape(o)))], [on])
        elif name == 'HARD_SWISH':
            self.node('HardSwish', [self.inp(ins[0], len(self.shape(o)))], [on])
        elif name == 'CUSTOM' and oc.CustomCode() == b'Convolution2DTransposeBias':
            padding, sw, sh = struct.unpack('<iii', op.CustomOptionsAsNumpy().tobytes()[:12])
            w = self.weight(ins[1], 'Convolution2DTransposeBias weights')  # [O,kh,kw,I]
            kh, kw = w.shape[1], w.shape[2]
            ish = self.shape(ins[0])
            osh = self.shape(o)
            th = max(sh * (ish[1] - 1) + kh - osh[1], 0)
            tw = max(sw * (ish[2] - 1) + kw - osh[2], 0)
            pads = [th // 2, tw // 2, th - th // 2, tw - tw // 2]
            self.node('ConvTranspose',
                      [self.inp(ins[0]), self.init(w.transpose(3, 0, 1, 2)),
                       self.init(self.weight(ins[2], 'Convolution2DTransposeBias bias'))],
                      [on], kernel_shape=[kh, kw], strides=[sh, sw], pads=pads)
        elif name == 'CUSTOM':
            raise Unsupported('custom op %r' % oc.CustomCode().decode(errors='replace'))
        else:
            raise Unsupported('op %s' % name)


def main(argv):
    if len(argv) != 3:
        print('usage: %s IN.tflite OUT.onnx' % argv[0], file=sys.stderr)
        return 2
    try:
        model = Converter(argv[1]).run()
    except Unsupported as e:
        print('tflite_to_onnx: cannot convert %s: unsupported %s' % (argv[1], e), file=sys.stderr)
        return 1
    onnx.save(model, argv[2])
    print('tflite_to_onnx: wrote %s' % argv[2])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
