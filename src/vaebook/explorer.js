// The latent explorer of vaebook/explorer.py: the trained decoders' forward pass in plain
// JavaScript (float64 arithmetic on the float32 weights, as LatentExplorer.decode does).
(function () {
  "use strict";
  var root = document.getElementById("{uid}");
  var data = JSON.parse(document.getElementById("{uid}-data").textContent);
  var COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  function bytes(b64) {
    var text = atob(b64), out = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }
  function floats(b64) { return new Float32Array(bytes(b64).buffer); }
  var H = data.hidden, D = data.pixels, K = data.sigmas.length, E = data.extent;
  var W1 = floats(data.weights.dec_hidden_weight), B1 = floats(data.weights.dec_hidden_bias);
  var W2 = floats(data.weights.dec_out_weight), B2 = floats(data.weights.dec_out_bias);
  var codes = floats(data.codes), images = bytes(data.images), labels = data.labels;
  var N = labels.length;

  function decode(k, z1, z2) {
    var hidden = new Float64Array(H), out = new Float64Array(D), j, i;
    for (j = 0; j < H; j++) {
      hidden[j] = Math.tanh(z1 * W1[(2 * k) * H + j] + z2 * W1[(2 * k + 1) * H + j] + B1[k * H + j]);
    }
    for (i = 0; i < D; i++) {
      var sum = 0;
      for (j = 0; j < H; j++) sum += hidden[j] * W2[(k * H + j) * D + i];
      out[i] = sum + B2[k * D + i];
    }
    return out;
  }
  function nearest(k, z1, z2) {
    var best = 0, bestDistance = Infinity;
    for (var n = 0; n < N; n++) {
      var a = codes[(k * N + n) * 2] - z1, b = codes[(k * N + n) * 2 + 1] - z2;
      var distance = a * a + b * b;
      if (distance < bestDistance) { best = n; bestDistance = distance; }
    }
    return best;
  }

  var el = function (name) { return document.getElementById("{uid}-" + name); };
  var sigmaInput = el("sigma"), plane = el("plane"), z1Input = el("z1"), z2Input = el("z2");
  var state = { index: data.start, z1: 0, z2: 0, decoded: null, nearest: 0 };

  function signed(value) { return value.toFixed(2).replace("-", "\u2212"); }
  function clamp(value) { return Math.max(-E, Math.min(E, value)); }

  function paintDigit(canvas, values, scale) {
    var side = data.side, context = canvas.getContext("2d");
    var picture = context.createImageData(side, side);
    for (var i = 0; i < D; i++) {
      var grey = Math.round(Math.max(0, Math.min(1, values[i] / scale)) * 255);
      picture.data[4 * i] = picture.data[4 * i + 1] = picture.data[4 * i + 2] = grey;
      picture.data[4 * i + 3] = 255;
    }
    context.putImageData(picture, 0, 0);
  }

  function paintPlane() {
    var ratio = window.devicePixelRatio || 1, width = plane.clientWidth || 300;
    if (plane.width !== Math.round(width * ratio)) {
      plane.width = plane.height = Math.round(width * ratio);
    }
    var c = plane.getContext("2d"), k = state.index;
    c.setTransform(ratio, 0, 0, ratio, 0, 0);
    var px = function (z) { return (z + E) / (2 * E) * width; };
    var py = function (z) { return (E - z) / (2 * E) * width; };
    c.fillStyle = "#ffffff"; c.fillRect(0, 0, width, width);
    c.lineWidth = 1;
    for (var g = -E; g <= E; g++) {
      c.strokeStyle = g === 0 ? "#999999" : "#e4e4e4";
      c.beginPath(); c.moveTo(px(g), 0); c.lineTo(px(g), width); c.stroke();
      c.beginPath(); c.moveTo(0, py(g)); c.lineTo(width, py(g)); c.stroke();
    }
    c.fillStyle = "#333333"; c.font = "11px sans-serif"; c.textBaseline = "bottom";
    for (g = -E + 2; g < E; g += 2) c.fillText(String(g).replace("-", "\u2212"), px(g) + 2, width - 2);
    c.textBaseline = "top";
    for (g = -E + 2; g < E; g += 2) c.fillText(String(g).replace("-", "\u2212"), 2, py(g) + 2);
    c.font = "13px sans-serif"; c.textBaseline = "bottom";
    c.fillText("z\u2081", width - 20, width - 2); c.textBaseline = "top"; c.fillText("z\u2082", 4, 2);
    for (var n = 0; n < N; n++) {
      c.fillStyle = COLOURS[labels.charCodeAt(n) - 48];
      c.beginPath();
      c.arc(px(clamp(codes[(k * N + n) * 2])), py(clamp(codes[(k * N + n) * 2 + 1])), 2.5, 0, 2 * Math.PI);
      c.fill();
    }
    var m = state.nearest;
    c.strokeStyle = "#000000"; c.lineWidth = 1.5; c.beginPath();
    c.arc(px(clamp(codes[(k * N + m) * 2])), py(clamp(codes[(k * N + m) * 2 + 1])), 5, 0, 2 * Math.PI);
    c.stroke();
    var x = px(state.z1), y = py(state.z2);
    c.lineWidth = 5; c.strokeStyle = "#ffffff";
    c.beginPath(); c.arc(x, y, 8, 0, 2 * Math.PI); c.stroke();
    c.lineWidth = 2.5; c.strokeStyle = "#d62728";
    c.beginPath(); c.arc(x, y, 8, 0, 2 * Math.PI); c.stroke();
  }

  function update() {
    var k = state.index, near = nearest(k, state.z1, state.z2);
    state.nearest = near;
    state.decoded = decode(k, state.z1, state.z2);
    var c1 = codes[(k * N + near) * 2], c2 = codes[(k * N + near) * 2 + 1];
    paintDigit(el("decoded"), state.decoded, 1);
    paintDigit(el("nearest"), images.subarray(near * D, (near + 1) * D), 255);
    paintDigit(el("reconstruction"), decode(k, c1, c2), 1);
    paintPlane();
    el("sigma-label").textContent = data.labels_sigma[k];
    sigmaInput.setAttribute("aria-valuetext", "\u03c3 = " + data.labels_sigma[k]);
    z1Input.value = state.z1; z2Input.value = state.z2;
    el("z1-value").textContent = signed(state.z1);
    el("z2-value").textContent = signed(state.z2);
    el("words").textContent = "\u03c3 = " + data.labels_sigma[k] + " (test KL " +
      data.kl[k].toFixed(2) + " nats): the point (" + signed(state.z1) + ", " +
      signed(state.z2) + ") decodes to the first picture. The nearest test digit, a " +
      labels.charAt(near) + ", has its code at (" + signed(c1) + ", " + signed(c2) + ").";
    root.dataset.index = k;
    root.dataset.z1 = String(state.z1);
    root.dataset.z2 = String(state.z2);
    root.dataset.nearest = near;
  }

  function moveTo(z1, z2) { state.z1 = clamp(z1); state.z2 = clamp(z2); update(); }
  function fromPointer(event) {
    var box = plane.getBoundingClientRect();
    moveTo((event.clientX - box.left) / box.width * 2 * E - E,
           E - (event.clientY - box.top) / box.height * 2 * E);
  }
  var dragging = false;
  plane.addEventListener("pointerdown", function (event) {
    dragging = true;
    if (plane.setPointerCapture) plane.setPointerCapture(event.pointerId);
    plane.focus();
    fromPointer(event);
    event.preventDefault();
  });
  plane.addEventListener("pointermove", function (event) { if (dragging) fromPointer(event); });
  plane.addEventListener("pointerup", function () { dragging = false; });
  plane.addEventListener("pointercancel", function () { dragging = false; });
  plane.addEventListener("keydown", function (event) {
    var step = event.shiftKey ? 0.5 : 0.1, moves = {
      ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step]
    };
    if (event.key === "Home") { moveTo(0, 0); event.preventDefault(); return; }
    var move = moves[event.key];
    if (!move) return;
    // Round to the step so that repeated presses land on round numbers.
    moveTo(Math.round((state.z1 + move[0]) * 100) / 100, Math.round((state.z2 + move[1]) * 100) / 100);
    event.preventDefault();
  });
  sigmaInput.addEventListener("input", function () {
    state.index = parseInt(sigmaInput.value, 10); update();
  });
  z1Input.addEventListener("input", function () { moveTo(parseFloat(z1Input.value), state.z2); });
  z2Input.addEventListener("input", function () { moveTo(state.z1, parseFloat(z2Input.value)); });
  window.addEventListener("resize", paintPlane);

  var legend = el("legend");
  for (var d = 0; d < 10; d++) {
    var item = document.createElement("span"), chip = document.createElement("span");
    chip.setAttribute("aria-hidden", "true");
    chip.style.cssText = "display:inline-block;width:0.7em;height:0.7em;border-radius:50%;" +
      "margin-right:0.2em;background:" + COLOURS[d];
    item.appendChild(chip); item.appendChild(document.createTextNode(String(d)));
    legend.appendChild(item);
  }
  // For readers' scripts and the tests: the page's own forward pass and state.
  root.vaebookExplorer = {
    decode: function (k, z1, z2) { return Array.from(decode(k, z1, z2)); },
    nearest: nearest,
    moveTo: moveTo,
    state: function () {
      return { index: state.index, z1: state.z1, z2: state.z2, nearest: state.nearest,
               decoded: Array.from(state.decoded) };
    }
  };
  update();
})();
