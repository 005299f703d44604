// Strokes -> a 28 x 28 image scaled and centred like MNIST: the JavaScript twin of
// iic_tutorial.strokes.strokes_to_image (same steps, same order of arithmetic, float64;
// tests/test_browser_demo.py checks both on the same strokes). The constants come from
// the Python module through the build (demo.js: IIC_DEMO.strokes).
//
//   IICStrokes.toImage([[[x, y], [x, y], ...], ...], IIC_DEMO.strokes)  // Float32Array(784)
(function (root) {
  "use strict";

  function segments(strokes) {  // flat [ax, ay, bx, by, ...]; a lone point is a dot
    var seg = [];
    strokes.forEach(function (stroke, n) {
      if (!stroke.length) throw new Error("IICStrokes: stroke " + n + " has no points");
      if (stroke.length === 1) {
        seg.push(stroke[0][0], stroke[0][1], stroke[0][0], stroke[0][1]);
      }
      for (var i = 1; i < stroke.length; i++) {
        seg.push(stroke[i - 1][0], stroke[i - 1][1], stroke[i][0], stroke[i][1]);
      }
    });
    return seg;
  }

  // ink at every pixel centre (column j, row i) for segments in image coordinates
  function draw(seg, size, r, e) {
    var v = new Float64Array(size * size), m = seg.length / 4;
    for (var i = 0; i < size; i++) {
      for (var j = 0; j < size; j++) {
        var best = Infinity;
        for (var s = 0; s < m; s++) {
          var ax = seg[4 * s], ay = seg[4 * s + 1];
          var dx = seg[4 * s + 2] - ax, dy = seg[4 * s + 3] - ay;
          var l2 = dx * dx + dy * dy;
          var t = l2 > 0 ? ((j - ax) * dx + (i - ay) * dy) / l2 : 0;
          t = t < 0 ? 0 : (t > 1 ? 1 : t);
          var ex = j - (ax + t * dx), ey = i - (ay + t * dy);
          var d2 = ex * ex + ey * ey;
          if (d2 < best) best = d2;
        }
        var ink = (r + e - Math.sqrt(best)) / (2 * e);
        v[i * size + j] = ink < 0 ? 0 : (ink > 1 ? 1 : ink);
      }
    }
    return v;
  }

  // (row, column) of the ink's centre of mass, pixels counted from 0
  function centreOfMass(v, size) {
    var total = 0, row = 0, col = 0, i, j;
    for (i = 0; i < v.length; i++) total += v[i];
    if (!(total > 0)) return null;
    for (i = 0; i < size; i++) {
      var sum = 0;
      for (j = 0; j < size; j++) sum += v[i * size + j];
      row += sum * i;
    }
    for (j = 0; j < size; j++) {
      var sumc = 0;
      for (i = 0; i < size; i++) sumc += v[i * size + j];
      col += sumc * j;
    }
    return [row / total, col / total];
  }

  // strokes: [[[x, y], ...], ...] in any unit; c: {size, box, centre, pen_radius, edge}
  function toImage(strokes, c) {
    if (!strokes || !strokes.length) throw new Error("IICStrokes: no strokes to draw");
    var size = c.size, r = c.pen_radius, e = c.edge;
    var seg = segments(strokes);
    var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity, k;
    for (k = 0; k < seg.length; k += 2) {
      if (!isFinite(seg[k]) || !isFinite(seg[k + 1])) throw new Error("IICStrokes: a point is not finite");
      x0 = Math.min(x0, seg[k]); x1 = Math.max(x1, seg[k]);
      y0 = Math.min(y0, seg[k + 1]); y1 = Math.max(y1, seg[k + 1]);
    }
    var extent = Math.max(x1 - x0, y1 - y0);
    var scale = extent > 0 ? (c.box - 2.0 * (r + e)) / extent : 0.0;
    var sx = c.centre - 0.5 * (x0 + x1) * scale, sy = c.centre - 0.5 * (y0 + y1) * scale;
    var placed = new Float64Array(seg.length);
    for (k = 0; k < seg.length; k += 2) {
      placed[k] = seg[k] * scale + sx;
      placed[k + 1] = seg[k + 1] * scale + sy;
    }
    var com = centreOfMass(draw(placed, size, r, e), size);
    for (k = 0; k < seg.length; k += 2) {
      placed[k] = placed[k] + (c.centre - com[1]);
      placed[k + 1] = placed[k + 1] + (c.centre - com[0]);
    }
    return Float32Array.from(draw(placed, size, r, e));
  }

  root.IICStrokes = {toImage: toImage, centreOfMass: centreOfMass};
})(typeof globalThis !== "undefined" ? globalThis : this);
