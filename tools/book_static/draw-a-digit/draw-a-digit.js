// The "draw a digit" page: a canvas to draw on (mouse, pen or finger: pointer events), the
// shipped model's answer while the pen moves (10-cluster head: the digit its cluster was
// matched to and the probability of each cluster; 50-cluster head: the cluster and the
// training images it holds most confidently), and keyboard controls. Everything runs in
// the page: iic-net.js (the network), strokes.js (the pre-processing), model.js and
// demo.js (written by tools/web_model.py when the book is built).
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? script.src.replace(/[^/]*$/, "") : "";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  function pct(p) { return (100 * p).toFixed(p > 0.9995 || p < 0.0005 ? 0 : 1) + " %"; }

  function start(root) {
    var fail = function (message) {
      root.hidden = false;
      root.replaceChildren(el("p", {"class": "dad-failed", role: "alert", text: message}));
    };
    if (!window.IICNet || !window.IICStrokes || !window.IIC_MODEL || !window.IIC_DEMO) {
      fail("The drawing demo could not load its model (_static/draw-a-digit/model.js and " +
           "demo.js are written when the book is built with `make book`).");
      return;
    }
    var net;
    try {
      net = window.IICNet.load(window.IIC_MODEL);
    } catch (err) {
      fail(err.message);
      return;
    }
    var demo = window.IIC_DEMO, info = window.IIC_MODEL.provenance || {};
    var headK = demo.heads.k, headOver = demo.heads.k_over;
    var size = demo.strokes.size;
    var samples = (function () {
      var bytes = atob(demo.samples.data), n = bytes.length / (size * size), out = [];
      for (var s = 0; s < n; s++) {
        var img = new Float32Array(size * size);
        for (var p = 0; p < size * size; p++) img[p] = bytes.charCodeAt(s * size * size + p) / 255;
        out.push(img);
      }
      return out;
    })();

    // ---------------------------------------------------------------- the page's parts
    var canvas = el("canvas", {
      "class": "dad-canvas", width: "280", height: "280", tabindex: "0", role: "img",
      "aria-label": "Drawing area: draw one digit with the mouse, a pen or a finger. " +
                    "Keys: Delete or Escape clears it, N shows a digit from the MNIST test set."});
    var clearButton = el("button", {type: "button", "class": "dad-clear", text: "Clear"});
    var sampleButton = el("button", {type: "button", "class": "dad-sample",
                                     text: "Show a test digit"});
    var kAnswer = el("p", {"class": "dad-k-answer", text: "Draw a digit in the box."});
    var bars = el("div", {"class": "dad-bars", role: "img",
                          "aria-label": "Probabilities of the 10-cluster head: none yet"});
    // one bar per cluster, in the order of the digits they were matched to
    var order = [];
    for (var c = 0; c < headK.size; c++) order.push(c);
    order.sort(function (a, b) {
      var da = headK.cluster_to_digit[a], db = headK.cluster_to_digit[b];
      return (da === null ? 99 + a : da) - (db === null ? 99 + b : db);
    });
    var fills = {}, barBoxes = {};
    order.forEach(function (cluster) {
      var digit = headK.cluster_to_digit[cluster];
      var fill = el("span", {"class": "dad-fill"});
      var box = el("span", {"class": "dad-bar", title: "cluster " + cluster},
                   [el("span", {"class": "dad-track"}, [fill]),
                    el("span", {"class": "dad-label", text: digit === null ? "–" : String(digit)})]);
      fills[cluster] = fill;
      barBoxes[cluster] = box;
      bars.appendChild(box);
    });
    var overAnswer = el("p", {"class": "dad-over-answer", text: "—"});
    var examples = el("div", {"class": "dad-examples"});
    var view = el("canvas", {"class": "dad-view", width: String(size), height: String(size),
                             role: "img", "aria-label": "The 28 by 28 image the network sees: empty"});
    var timing = el("p", {"class": "dad-time"});
    var live = el("p", {"class": "dad-live", "aria-live": "polite"});
    var provenance = el("p", {"class": "dad-provenance"});
    var acc = typeof info.test_accuracy === "number" ? (100 * info.test_accuracy).toFixed(2) + " %" : "?";
    provenance.append(
      "The model: ", el("code", {text: "iic_tutorial.load_pretrained(" +
                                       (info.name === "long_band" ? "" : JSON.stringify(info.name)) + ")"}),
      " (run " + info.run + ", revision " + info.revision + ", " + acc +
      " of the test images in the cluster matched to their digit), trained by ",
      el("code", {text: info.command || "?"}),
      "; turned into this page's network by tools/web_model.py when the book was built.");

    root.replaceChildren(
      el("div", {"class": "dad-grid"}, [
        el("div", {"class": "dad-pad"}, [
          canvas,
          el("div", {"class": "dad-buttons"}, [clearButton, sampleButton]),
          el("p", {"class": "dad-keys",
                   text: "On the drawing area: Delete or Escape clears, N shows a test digit."}),
        ]),
        el("div", {"class": "dad-answers"}, [
          el("p", {"class": "dad-title", text: "10-cluster head"}), kAnswer, bars,
          el("p", {"class": "dad-title", text: "50-cluster head"}), overAnswer, examples,
          el("div", {"class": "dad-seen"}, [view, el("span", {text: "what the network sees (28 × 28)"})]),
          timing,
        ]),
      ]),
      live, provenance);
    root.hidden = false;

    // ---------------------------------------------------------------- drawing
    var ctx = canvas.getContext("2d");
    var strokes = [], sample = -1, drawing = null, scheduled = false, last = null;

    function paper() {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.lineWidth = canvas.width / 16;
      ctx.strokeStyle = "#111111";
      ctx.fillStyle = "#111111";
    }

    function point(event) {
      var r = canvas.getBoundingClientRect();
      return [(event.clientX - r.left) * canvas.width / r.width,
              (event.clientY - r.top) * canvas.height / r.height];
    }

    function showImage(target, image, scale) {
      var g = target.getContext("2d"), data = g.createImageData(size, size);
      for (var p = 0; p < size * size; p++) {
        var v = Math.round(255 * (1 - image[p]));
        data.data[4 * p] = data.data[4 * p + 1] = data.data[4 * p + 2] = v;
        data.data[4 * p + 3] = 255;
      }
      if (!scale) {
        g.putImageData(data, 0, 0);
        return;
      }
      var small = el("canvas", {width: String(size), height: String(size)});
      small.getContext("2d").putImageData(data, 0, 0);
      g.imageSmoothingEnabled = false;
      g.drawImage(small, 0, 0, target.width, target.height);
    }

    function reset(message) {
      strokes = [];
      sample = -1;
      drawing = null;
      last = null;
      paper();
      view.getContext("2d").clearRect(0, 0, size, size);
      view.setAttribute("aria-label", "The 28 by 28 image the network sees: empty");
      kAnswer.textContent = message || "Draw a digit in the box.";
      overAnswer.textContent = "—";
      examples.replaceChildren();
      timing.textContent = "";
      order.forEach(function (cl) {
        fills[cl].style.height = "0%";
        barBoxes[cl].classList.remove("dad-top");
      });
      bars.setAttribute("aria-label", "Probabilities of the 10-cluster head: none yet");
      root.removeAttribute("data-cluster");
      root.removeAttribute("data-over-cluster");
    }

    function argmax(a) {
      var best = 0;
      for (var i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
      return best;
    }

    // image (28*28 values in [0, 1]) -> the two heads' answers
    function classify(image) {
      var out = net.run(image);
      var z = out[headK.output], zOver = out[headOver.output];
      var cluster = argmax(z), over = argmax(zOver);
      return {k: {cluster: cluster, digit: headK.cluster_to_digit[cluster], p: z[cluster], z: z},
              over: {cluster: over, p: zOver[over], count: headOver.counts[over], z: zOver}};
    }

    function render(answer, image) {
      var k = answer.k, o = answer.over;
      kAnswer.replaceChildren(
        "Cluster " + k.cluster + ", matched to the digit ",
        el("strong", {"class": "dad-digit", text: k.digit === null ? "(none)" : String(k.digit)}),
        ", probability " + pct(k.p) + ".");
      var ranked = order.slice().sort(function (a, b) { return k.z[b] - k.z[a]; });
      order.forEach(function (cl) {
        fills[cl].style.height = (100 * k.z[cl]).toFixed(1) + "%";
        barBoxes[cl].classList.toggle("dad-top", cl === k.cluster);
        barBoxes[cl].title = "cluster " + cl + " (digit " + headK.cluster_to_digit[cl] + "): " + pct(k.z[cl]);
      });
      bars.setAttribute("aria-label", "Probabilities of the 10-cluster head, highest first: " +
        ranked.slice(0, 3).map(function (cl) {
          return "digit " + headK.cluster_to_digit[cl] + " " + pct(k.z[cl]);
        }).join(", "));
      var pool = headOver.pool.toLocaleString("en");
      overAnswer.textContent = "Cluster " + o.cluster + " of " + headOver.size + ", probability " +
        pct(o.p) + (o.count ? "; it holds " + o.count + " of the first " + pool +
                    " training images, most confidently these:"
                           : "; none of the first " + pool + " training images falls in it.");
      var src = base + headOver.images.replace("{cluster}", (o.cluster < 10 ? "0" : "") + o.cluster);
      var shown = examples.firstChild;
      if (!o.count) {
        examples.replaceChildren();
      } else if (!shown || shown.getAttribute("src") !== src) {
        examples.replaceChildren(el("img", {
          src: src, "class": "dad-examples-img",
          alt: "The MNIST training images that the 50-cluster head puts most confidently in " +
               "cluster " + o.cluster + " (up to " + headOver.examples + ")"}));
      }
      showImage(view, image, false);
      view.setAttribute("aria-label", "The 28 by 28 image the network sees, scaled and centred like MNIST");
      root.setAttribute("data-cluster", String(k.cluster));
      root.setAttribute("data-over-cluster", String(o.cluster));
    }

    function answer(image) {
      var t0 = performance.now();
      var result = classify(image);
      render(result, image);
      result.ms = performance.now() - t0;
      timing.textContent = "Answered in " + result.ms.toFixed(1) + " ms, in this page.";
      last = result;
      return result;
    }

    function answerStrokes() {
      scheduled = false;
      if (!strokes.length) return null;
      var t0 = performance.now();
      var image = window.IICStrokes.toImage(strokes, demo.strokes);
      var result = answer(image);
      result.ms = performance.now() - t0;
      timing.textContent = "Answered in " + result.ms.toFixed(1) + " ms, in this page.";
      return result;
    }

    function schedule() {
      if (!scheduled) {
        scheduled = true;
        window.requestAnimationFrame(answerStrokes);
      }
    }

    function announce() {
      if (!last) return;
      live.textContent = "10-cluster head: the digit " + last.k.digit + ", " + pct(last.k.p) +
        ". 50-cluster head: cluster " + last.over.cluster + ".";
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== undefined && event.button > 0) return;
      event.preventDefault();
      if (sample >= 0) reset();
      canvas.focus();
      canvas.setPointerCapture(event.pointerId);
      var p = point(event);
      drawing = event.pointerId;
      strokes.push([p]);
      ctx.beginPath();
      ctx.arc(p[0], p[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
      schedule();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (drawing !== event.pointerId) return;
      var stroke = strokes[strokes.length - 1];
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      (events.length ? events : [event]).forEach(function (e) {
        var from = stroke[stroke.length - 1], to = point(e);
        stroke.push(to);
        ctx.beginPath();
        ctx.moveTo(from[0], from[1]);
        ctx.lineTo(to[0], to[1]);
        ctx.stroke();
      });
      schedule();
    });
    function end(event) {
      if (drawing !== event.pointerId) return;
      drawing = null;
      answerStrokes();
      announce();
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);

    function showSample() {
      var next = (sample + 1) % samples.length;
      reset();
      sample = next;
      showImage(canvas, samples[sample], true);
      answer(samples[sample]);
      announce();
    }
    clearButton.addEventListener("click", function () { reset(); live.textContent = "Cleared."; });
    sampleButton.addEventListener("click", showSample);
    canvas.addEventListener("keydown", function (event) {
      if (event.key === "Escape" || event.key === "Delete" || event.key === "Backspace") {
        event.preventDefault();
        reset();
        live.textContent = "Cleared.";
      } else if (event.key === "n" || event.key === "N") {
        event.preventDefault();
        showSample();
      }
    });

    reset();
    // for tests and the curious: the network, the pre-processing and the last answer
    window.iicDrawADigit = {
      net: net, demo: demo, classify: classify,
      strokes: function () { return strokes.map(function (s) { return s.slice(); }); },
      toImage: function (s) { return window.IICStrokes.toImage(s, demo.strokes); },
      answerStrokes: function (s) { strokes = s; return answerStrokes(); },
      last: function () { return last; },
      clear: reset,
    };
  }

  var root = document.getElementById("draw-a-digit-demo");
  if (root) start(root);
})();
