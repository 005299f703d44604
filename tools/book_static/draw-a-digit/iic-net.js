// The inference pass of a network exported by tools/web_model.py ("iic-net/1"), in plain
// JavaScript with no dependency: convolutions (BatchNorm already folded in), ReLU, max
// pooling, global average pooling, flatten, dense layers and softmax, on tensors laid out
// as Keras lays them out (rows, columns, channels). Weights stay float32, as exported;
// activations, products and sums are float64.
// tests/test_browser_demo.py holds it to Keras on the 10,000 MNIST test images.
//
//   var net = IICNet.load(window.IIC_MODEL);   // the spec the build wrote into model.js
//   var out = net.run(image);                  // image: 28*28 values in [0, 1], row by row
//   out.Z, out.Z_over                          // Float64Array probabilities of each head
(function (root) {
  "use strict";
  var FORMAT = "iic-net/1";

  // float32 weights as the export wrote them; products and sums are float64
  function decodeFloat32(base64, length) {
    var bytes = atob(base64);
    if (bytes.length !== 4 * length) {
      throw new Error("iic-net: the weights hold " + bytes.length + " bytes; the spec says " +
                      length + " float32 values. Rebuild the book (make book).");
    }
    var view = new DataView(new ArrayBuffer(bytes.length));
    for (var i = 0; i < bytes.length; i++) view.setUint8(i, bytes.charCodeAt(i));
    var out = new Float32Array(length);
    for (var j = 0; j < length; j++) out[j] = view.getFloat32(4 * j, true);
    return out;
  }

  function samePad(size, k, stride) {  // TensorFlow's "same": the odd pixel goes after
    var out = Math.ceil(size / stride);
    return [out, Math.floor(Math.max((out - 1) * stride + k - size, 0) / 2)];
  }

  function outSize(size, k, stride, padding) {
    return padding === "same" ? samePad(size, k, stride) : [Math.floor((size - k) / stride) + 1, 0];
  }

  function activate(a, kind) {
    var i, n = a.length;
    if (kind === "relu") {
      for (i = 0; i < n; i++) if (a[i] < 0) a[i] = 0;
    } else if (kind === "softmax") {
      var max = -Infinity, sum = 0;
      for (i = 0; i < n; i++) if (a[i] > max) max = a[i];
      for (i = 0; i < n; i++) { a[i] = Math.exp(a[i] - max); sum += a[i]; }
      for (i = 0; i < n; i++) a[i] /= sum;
    }
  }

  // One operation: its output shape and buffer are fixed when the network is loaded.
  function compile(op, shapes, w) {
    var x = shapes[op.inputs[0]];
    if (!x) throw new Error("iic-net: op " + op.output + " reads unknown tensor " + op.inputs[0]);
    var H = x[0], W = x[1], C = x[2];
    var slice = function (ref) { return w.subarray(ref[0], ref[0] + ref[1]); };
    var run;
    var shape;
    if (op.op === "conv2d") {
      var cin = op.shape[2], cout = op.shape[3];
      if (cin !== C) throw new Error("iic-net: " + op.output + " expects " + cin + " channels, gets " + C);
      var kh = op.shape[0], kw = op.shape[1], sh = op.strides[0], sw = op.strides[1];
      var oy = outSize(H, kh, sh, op.padding), ox = outSize(W, kw, sw, op.padding);
      var K = slice(op.kernel), B = slice(op.bias), acc = new Float64Array(cout);
      shape = [oy[0], ox[0], cout];
      run = function (inp, out) {
        for (var y = 0; y < oy[0]; y++) {
          for (var xx = 0; xx < ox[0]; xx++) {
            acc.set(B);
            for (var dy = 0; dy < kh; dy++) {
              var iy = y * sh + dy - oy[1];
              if (iy < 0 || iy >= H) continue;
              for (var dx = 0; dx < kw; dx++) {
                var ix = xx * sw + dx - ox[1];
                if (ix < 0 || ix >= W) continue;
                var ib = (iy * W + ix) * C, wb = (dy * kw + dx) * cin * cout;
                for (var c = 0; c < cin; c++) {
                  var v = inp[ib + c];
                  if (v === 0) continue;  // after a ReLU, about half the inputs
                  var wr = wb + c * cout;
                  for (var o = 0; o < cout; o++) acc[o] += v * K[wr + o];
                }
              }
            }
            out.set(acc, (y * ox[0] + xx) * cout);
          }
        }
        activate(out, op.activation);
      };
    } else if (op.op === "dense") {
      var din = op.shape[0], dout = op.shape[1];
      var M = slice(op.kernel), b = slice(op.bias);
      if (din !== H * W * C) throw new Error("iic-net: " + op.output + " expects " + din + " inputs");
      shape = [1, 1, dout];
      run = function (inp, out) {
        out.set(b);
        for (var i = 0; i < din; i++) {
          var v = inp[i];
          if (v === 0) continue;
          var r = i * dout;
          for (var o = 0; o < dout; o++) out[o] += v * M[r + o];
        }
        activate(out, op.activation);
      };
    } else if (op.op === "affine") {
      var s = slice(op.scale), t = slice(op.shift);
      shape = [H, W, C];
      run = function (inp, out) {
        for (var i = 0; i < inp.length; i++) out[i] = inp[i] * s[i % C] + t[i % C];
      };
    } else if (op.op === "relu" || op.op === "softmax" || op.op === "identity") {
      shape = [H, W, C];
      run = function (inp, out) { out.set(inp); activate(out, op.op); };
    } else if (op.op === "maxpool2d") {
      var ph = op.pool[0], pw = op.pool[1], psh = op.strides[0], psw = op.strides[1];
      var py = outSize(H, ph, psh, op.padding), px = outSize(W, pw, psw, op.padding);
      shape = [py[0], px[0], C];
      run = function (inp, out) {  // the loops of conv2d's, inline: a callback costs 20 %
        for (var y = 0; y < py[0]; y++) {
          for (var xx = 0; xx < px[0]; xx++) {
            var ob = (y * px[0] + xx) * C;
            out.fill(-Infinity, ob, ob + C);
            for (var dy = 0; dy < ph; dy++) {
              var iy = y * psh + dy - py[1];
              if (iy < 0 || iy >= H) continue;
              for (var dx = 0; dx < pw; dx++) {
                var ix = xx * psw + dx - px[1];
                if (ix < 0 || ix >= W) continue;
                var ib = (iy * W + ix) * C;
                for (var c = 0; c < C; c++) if (inp[ib + c] > out[ob + c]) out[ob + c] = inp[ib + c];
              }
            }
          }
        }
      };
    } else if (op.op === "gap") {
      shape = [1, 1, C];
      run = function (inp, out) {
        out.fill(0);
        for (var p = 0; p < H * W; p++) for (var c = 0; c < C; c++) out[c] += inp[p * C + c];
        for (var c3 = 0; c3 < C; c3++) out[c3] /= H * W;
      };
    } else if (op.op === "flatten") {  // rows, columns, channels: already Keras' order
      shape = [1, 1, H * W * C];
      run = function (inp, out) { out.set(inp); };
    } else {
      throw new Error("iic-net: unknown op " + JSON.stringify(op.op) + " (" + op.output +
                      "); this page's iic-net.js is older than the model it was given");
    }
    return {input: op.inputs[0], output: op.output, shape: shape, run: run,
            buffer: new Float64Array(shape[0] * shape[1] * shape[2])};
  }

  function load(spec) {
    if (!spec || spec.format !== FORMAT) {
      throw new Error("iic-net: expected a network in format " + FORMAT + ", got " +
                      JSON.stringify(spec && spec.format) + ". Rebuild the book (make book).");
    }
    var weights = decodeFloat32(spec.weights.data, spec.weights.length);
    var shapes = {}, buffers = {};
    var inShape = spec.input.shape;
    shapes[spec.input.name] = inShape;
    var size = inShape[0] * inShape[1] * inShape[2];
    buffers[spec.input.name] = new Float64Array(size);
    var steps = spec.ops.map(function (op) {
      var step = compile(op, shapes, weights);
      shapes[step.output] = step.shape;
      buffers[step.output] = step.buffer;
      return step;
    });
    return {
      spec: spec,
      inputSize: size,
      outputs: spec.outputs.map(function (o) { return o.name; }),
      // image: inputSize values (rows, columns, channels) -> {output name: Float64Array}
      run: function (image) {
        if (!image || image.length !== size) {
          throw new Error("iic-net: the input must hold " + size + " values; got " +
                          (image ? image.length : image));
        }
        buffers[spec.input.name].set(image);
        for (var i = 0; i < steps.length; i++) steps[i].run(buffers[steps[i].input], steps[i].buffer);
        var result = {};
        for (var j = 0; j < spec.outputs.length; j++) {
          result[spec.outputs[j].name] = Float64Array.from(buffers[spec.outputs[j].name]);
        }
        return result;
      },
    };
  }

  root.IICNet = {load: load, FORMAT: FORMAT};
})(typeof globalThis !== "undefined" ? globalThis : this);
