/*
 * Explorables: small interactive figures for the course site (book/_ext/explorable.py).
 * Plain JavaScript and SVG, no libraries, no network.
 *
 * The arithmetic follows the course's reference implementations operation for operation
 * (gradient_descent, sgd, sgd_momentum and adam of assignment 03, the Value class of 02,
 * num_iterations and iterate_minibatches of 04), so the numbers shown here are the numbers
 * students' own code should produce. Every drawn trajectory keeps its exact values in data-
 * attributes, which the site's browser tests compare with those reference functions.
 */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var COLOURS = {
    blue: "#1d4ed8", red: "#dc2626", green: "#15803d", purple: "#7c3aed",
    amber: "#d97706", slate: "#334155", grey: "#94a3b8",
  };

  // --- small helpers ------------------------------------------------------------------------

  function el(tag, attrs, parent, text) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    if (text !== undefined) { node.textContent = text; }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function svg(tag, attrs, parent, text) {
    var node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    if (text !== undefined) { node.textContent = text; }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function setAttrs(node, attrs) {
    Object.keys(attrs || {}).forEach(function (name) {
      if (attrs[name] !== undefined && attrs[name] !== null) {
        node.setAttribute(name, attrs[name]);
      }
    });
  }

  // Decimal strings from start to stop in steps of step: "0.005", "0.01", ... Parsing such a
  // string gives the same double as Python's float() of it, so settings match exactly.
  function decimals(start, stop, step, digits) {
    var values = [];
    var count = Math.round((stop - start) / step);
    for (var i = 0; i <= count; i++) {
      values.push(String(parseFloat((start + i * step).toFixed(digits))));
    }
    return values;
  }

  function format(x, digits) {
    if (!isFinite(x)) { return x > 0 ? "\u221e" : (x < 0 ? "\u2212\u221e" : "not a number"); }
    if (x === 0) { return "0"; }
    var size = Math.abs(x);
    var text;
    if (size >= 1e5 || size < 1e-3) {
      var parts = x.toExponential((digits || 3) - 1).split("e");
      text = parts[0] + "\u00d710" + superscript(parts[1]);
    } else {
      text = String(parseFloat(x.toPrecision(digits || 4)));
    }
    return text.replace(/^-/, "\u2212");
  }

  function superscript(exponent) {
    var map = { "-": "\u207b", "+": "", "0": "\u2070", "1": "\u00b9", "2": "\u00b2",
                "3": "\u00b3", "4": "\u2074", "5": "\u2075", "6": "\u2076", "7": "\u2077",
                "8": "\u2078", "9": "\u2079" };
    return exponent.split("").map(function (c) { return map[c]; }).join("");
  }

  function group(parent, className) {
    return el("div", { "class": className }, parent);
  }

  // A slider over a list of decimal strings. Returns {input, value()}.
  function slider(parent, options, onChange) {
    var id = options.id;
    var row = group(parent, "explorable-control");
    el("label", { "for": id }, row, options.label);
    var input = el("input", {
      type: "range", id: id, min: 0, max: options.values.length - 1, step: 1,
      value: Math.max(0, options.values.indexOf(options.initial)),
      "data-setting": options.name, "data-values": JSON.stringify(options.values),
    }, row);
    var output = el("output", { "for": id }, row);
    function value() { return parseFloat(options.values[+input.value]); }
    function show() {
      var text = options.values[+input.value];
      output.textContent = text;
      input.setAttribute("aria-valuetext", options.label + " " + text);
      input.setAttribute("data-value", text);
    }
    input.addEventListener("input", function () { show(); onChange(); });
    show();
    return {
      input: input, value: value,
      set: function (text) { input.value = Math.max(0, options.values.indexOf(text)); show(); },
    };
  }

  function button(parent, label, onClick, attrs) {
    var node = el("button", Object.assign({ type: "button", "class": "explorable-button" },
                                          attrs || {}), parent, label);
    node.addEventListener("click", onClick);
    return node;
  }

  function linear(d0, d1, r0, r1) {
    return function (v) { return r0 + (v - d0) * (r1 - r0) / (d1 - d0); };
  }

  function niceStep(span, count) {
    var raw = span / Math.max(1, count);
    var power = Math.pow(10, Math.floor(Math.log10(raw)));
    var unit = raw / power;
    return (unit < 1.5 ? 1 : unit < 3.5 ? 2 : unit < 7.5 ? 5 : 10) * power;
  }

  function linearTicks(d0, d1, count) {
    var step = niceStep(d1 - d0, count);
    var ticks = [];
    for (var t = Math.ceil(d0 / step) * step; t <= d1 + step * 1e-9; t += step) {
      ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    }
    return ticks;
  }

  // A panel: a box in an SVG with x and y scales, tick labels and axis titles.
  function panel(root, box, spec) {
    var g = svg("g", { "class": "explorable-panel" }, root);
    var x = linear(spec.x[0], spec.x[1], box.left, box.left + box.width);
    var yLog = !!spec.logY;
    var y0 = yLog ? Math.log10(spec.y[0]) : spec.y[0];
    var y1 = yLog ? Math.log10(spec.y[1]) : spec.y[1];
    var yLin = linear(y0, y1, box.top + box.height, box.top);
    var y = yLog ? function (v) { return yLin(Math.log10(v)); } : yLin;
    // ids that are the same at every redraw, so that one picture always draws the same
    var clipId = root.getAttribute("data-id") + "-clip-" + root.querySelectorAll("clipPath").length;
    var clip = svg("clipPath", { id: clipId }, g);
    svg("rect", { x: box.left, y: box.top, width: box.width, height: box.height }, clip);
    svg("rect", { x: box.left, y: box.top, width: box.width, height: box.height,
                  "class": "explorable-frame" }, g);
    linearTicks(spec.x[0], spec.x[1], spec.xTicks || 5).forEach(function (t) {
      svg("line", { x1: x(t), x2: x(t), y1: box.top, y2: box.top + box.height,
                    "class": "explorable-grid" }, g);
      svg("text", { x: x(t), y: box.top + box.height + 15, "text-anchor": "middle",
                    "class": "explorable-tick" }, g, format(t, 3));
    });
    var yTicks = [];
    if (yLog) {
      var every = Math.max(1, Math.ceil((Math.ceil(y1) - Math.floor(y0)) / (spec.yTicks || 5)));
      for (var p = Math.ceil(y0); p <= Math.floor(y1); p += every) { yTicks.push(Math.pow(10, p)); }
    } else {
      yTicks = linearTicks(spec.y[0], spec.y[1], spec.yTicks || 4);
    }
    yTicks.forEach(function (t) {
      svg("line", { x1: box.left, x2: box.left + box.width, y1: y(t), y2: y(t),
                    "class": "explorable-grid" }, g);
      svg("text", { x: box.left - 6, y: y(t) + 4, "text-anchor": "end",
                    "class": "explorable-tick" }, g,
          yLog ? "10" + superscript(String(Math.round(Math.log10(t)))) : format(t, 3));
    });
    if (spec.xLabel) {
      svg("text", { x: box.left + box.width / 2, y: box.top + box.height + 33,
                    "text-anchor": "middle", "class": "explorable-label" }, g, spec.xLabel);
    }
    if (spec.yLabel) {
      var cx = box.left - 44;
      var cy = box.top + box.height / 2;
      svg("text", { x: cx, y: cy, "text-anchor": "middle", "class": "explorable-label",
                    transform: "rotate(-90 " + cx + " " + cy + ")" }, g, spec.yLabel);
    }
    if (spec.title) {
      fittedText(g, { x: box.left + box.width / 2, y: box.top - 8, "text-anchor": "middle",
                      "class": "explorable-panel-title" }, [].concat(spec.title));
    }
    var plot = svg("g", { "clip-path": "url(#" + clipId + ")" }, g);
    return { g: g, plot: plot, x: x, y: y, box: box };
  }

  function polyline(parent, points, attrs) {
    var kept = points.filter(function (p) { return isFinite(p[0]) && isFinite(p[1]); });
    var d = kept.map(function (p, i) {
      return (i ? "L" : "M") + p[0].toFixed(2) + " " + p[1].toFixed(2);
    }).join("");
    return svg("path", Object.assign({ d: d || "M0 0", fill: "none" }, attrs), parent);
  }

  // Clamp a screen coordinate so that far-away (diverging) points stay drawable.
  function clampPx(v) { return Math.max(-1e4, Math.min(1e4, v)); }

  // A text that comes with shorter versions, for narrow screens: show() picks the first that fits.
  function fittedText(parent, attrs, versions) {
    return svg("text", Object.assign({ "data-versions": JSON.stringify(versions) }, attrs), parent,
               versions[0]);
  }

  // Put a drawn SVG on the page, then make each text with versions fit it: the first version
  // that is narrow enough, moved sideways if need be, so that nothing is cut off.
  function show(parent, root) {
    parent.appendChild(root);
    var width = root.viewBox.baseVal.width;
    root.querySelectorAll("text[data-versions]").forEach(function (text) {
      var versions = JSON.parse(text.getAttribute("data-versions"));
      for (var i = 0; i < versions.length; i++) {
        text.textContent = versions[i];
        if (text.getBBox().width <= width - 4) { break; }
      }
      var box = text.getBBox();
      var shift = Math.max(0, 2 - box.x) - Math.max(0, box.x + box.width - (width - 2));
      text.setAttribute("x", parseFloat(text.getAttribute("x")) + shift);
    });
  }

  function newSvg(body, height, label) {
    var width = Math.max(320, Math.floor(body.clientWidth || 640));
    var root = svg("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height,
                            role: "img", "aria-label": label, "class": "explorable-svg",
                            "data-id": body.closest(".explorable").id });
    return { root: root, width: width, height: height };
  }

  function legend(parent, entries) {
    var list = el("ul", { "class": "explorable-legend" }, parent);
    entries.forEach(function (entry) {
      var item = el("li", {}, list);
      el("span", { "class": "explorable-swatch", style: "background:" + entry.colour }, item);
      el("span", {}, item, entry.label);
    });
    return list;
  }

  // --- 1. gradient descent on x^2 -------------------------------------------------------------

  function gradientDescent(figure, body) {
    var STEPS = 12;
    var rates = decimals(0.005, 1.1, 0.005, 3);
    var controls = group(body, "explorable-controls");
    var rate = slider(controls, { id: figure.id + "-lr", name: "lr", label: "learning rate \u03b7",
                                  values: rates, initial: "0.1" }, draw);
    rate.input.parentNode.classList.add("is-wide");
    var presets = group(controls, "explorable-presets");
    [["too small", "0.01"], ["about right", "0.1"], ["too large", "1.05"]].forEach(function (p) {
      button(presets, p[0] + " (" + p[1] + ")", function () { rate.set(p[1]); draw(); },
             { "data-preset": p[1] });
    });
    var readout = el("p", { "class": "explorable-readout", "aria-live": "polite" }, body);
    var picture = group(body, "explorable-picture");
    var sequence = el("p", { "class": "explorable-sequence" }, body);

    function run(lr) { // the reference gradient_descent with grad_fn = 2x, from x = 10
      var xs = [10];
      var x = 10;
      for (var k = 0; k < STEPS; k++) {
        x = x - lr * (2 * x);
        xs.push(x);
      }
      return xs;
    }

    function verdict(lr) {
      var factor = 1 - 2 * lr;
      if (Math.abs(factor) > 1) {
        return "too large: every step overshoots by more than the last, and training diverges";
      }
      if (factor === -1) { return "on the edge: x bounces between 10 and \u221210 for ever"; }
      if (factor < 0) { return "large: x flips sign at every step, but the swings shrink"; }
      if (factor === 0) { return "one step lands exactly on the minimum (only on this bowl)"; }
      if (lr < 0.03) { return "too small: safe, but it crawls"; }
      return "about right: a steady march to the minimum";
    }

    function draw() {
      var lr = rate.value();
      var xs = run(lr);
      var losses = xs.map(function (x) { return x * x; });
      figure.setAttribute("data-lr", String(lr));
      readout.textContent = "";
      el("strong", {}, readout, verdict(lr) + ". ");
      readout.appendChild(document.createTextNode(
        "Each step multiplies x by 1 \u2212 2\u03b7 = " + format(1 - 2 * lr, 4) +
        "; after " + STEPS + " steps x = " + format(xs[STEPS], 4) +
        " and the loss is " + format(losses[STEPS], 4) + "."));
      readout.setAttribute("data-final-x", String(xs[STEPS]));
      sequence.textContent = "x: " + xs.map(function (x) { return format(x, 4); }).join(" \u2192 ");

      picture.textContent = "";
      var frame = newSvg(picture, 270, "Gradient descent on x squared with learning rate " + lr);
      var gap = 70;
      var half = (frame.width - 60 - gap - 12) / 2;
      var reach = 1.1 * Math.max.apply(null, xs.map(Math.abs));
      var left = panel(frame.root, { left: 60, top: 24, width: half, height: 200 }, {
        x: [-reach, reach], y: [0, reach * reach * 1.05], xLabel: "x", yLabel: "loss x\u00b2",
        title: "The path on the loss curve", xTicks: 4, yTicks: 4,
      });
      var curve = [];
      for (var i = 0; i <= 100; i++) {
        var u = -reach + 2 * reach * i / 100;
        curve.push([left.x(u), left.y(u * u)]);
      }
      polyline(left.plot, curve, { stroke: COLOURS.grey, "stroke-width": 2 });
      polyline(left.plot, xs.map(function (x) { return [left.x(x), left.y(x * x)]; }),
               { stroke: COLOURS.blue, "stroke-width": 1.5, "class": "explorable-path" });
      xs.forEach(function (x, k) {
        svg(k ? "circle" : "rect", k ? {
          cx: left.x(x), cy: left.y(x * x), r: 4, fill: COLOURS.blue,
          "data-step": k, "data-x": String(x), "class": "explorable-point",
        } : {
          x: left.x(x) - 5, y: left.y(x * x) - 5, width: 10, height: 10, fill: "#111",
          "data-step": k, "data-x": String(x), "class": "explorable-point",
        }, left.plot);
      });

      var finite = losses.filter(function (v) { return v > 0 && isFinite(v); });
      var low = Math.pow(10, Math.floor(Math.log10(Math.min.apply(null, finite.concat([1])))));
      var high = Math.pow(10, Math.ceil(Math.log10(Math.max.apply(null, finite.concat([100])))));
      var right = panel(frame.root, { left: 60 + half + gap, top: 24, width: half, height: 200 }, {
        x: [-0.4, STEPS + 0.4], y: [low, high], logY: true, xLabel: "step", yLabel: "loss (log scale)",
        title: "Loss at each step", xTicks: 6, yTicks: 5,
      });
      var pts = losses.map(function (v, k) {
        return [right.x(k), clampPx(right.y(Math.max(v, low / 10)))];
      });
      polyline(right.plot, pts, { stroke: COLOURS.red, "stroke-width": 2 });
      pts.forEach(function (p, k) {
        svg("circle", { cx: p[0], cy: p[1], r: 3.5, fill: COLOURS.red,
                        "data-step": k, "data-loss": String(losses[k]) }, right.plot);
      });
      show(picture, frame.root);
    }
    return draw;
  }

  // --- 2. gradient descent, momentum and Adam in a narrow valley ----------------------------

  function optimizerRace(figure, body) {
    var STEPS = 100;
    var START = [-8, 1];
    function gradient(w) { return [w[0], 100 * w[1]]; }
    function loss(w) { return 0.5 * w[0] * w[0] + 50 * w[1] * w[1]; }

    // One step of each optimizer for one coordinate, as the reference functions compute it.
    function runSgd(lr) {
      var w = START.slice();
      var path = [w.slice()];
      for (var k = 0; k < STEPS; k++) {
        var g = gradient(w);
        w = [w[0] - lr * g[0], w[1] - lr * g[1]];
        path.push(w);
      }
      return path;
    }
    function runMomentum(lr, mu) {
      var w = START.slice();
      var v = [0, 0];
      var path = [w.slice()];
      for (var k = 0; k < STEPS; k++) {
        var g = gradient(w);
        v = [mu * v[0] + g[0], mu * v[1] + g[1]]; // velocity: a running sum of gradients
        w = [w[0] - lr * v[0], w[1] - lr * v[1]];
        path.push(w);
      }
      return path;
    }
    function runAdam(lr, beta1, beta2) {
      var eps = 1e-8;
      var w = START.slice();
      var m = [0, 0];
      var s = [0, 0];
      var path = [w.slice()];
      for (var t = 1; t <= STEPS; t++) {
        var g = gradient(w);
        var next = [0, 0];
        for (var i = 0; i < 2; i++) {
          m[i] = beta1 * m[i] + (1 - beta1) * g[i];
          s[i] = beta2 * s[i] + (1 - beta2) * g[i] * g[i];
          var mHat = m[i] / (1 - Math.pow(beta1, t));
          var sHat = s[i] / (1 - Math.pow(beta2, t));
          next[i] = w[i] - lr * mHat / (Math.sqrt(sHat) + eps);
        }
        w = next;
        path.push(w);
      }
      return path;
    }

    var controls = group(body, "explorable-controls explorable-controls-grid");
    function box(title, colour) {
      var fieldset = el("fieldset", { "class": "explorable-fieldset" }, controls);
      var legendNode = el("legend", {}, fieldset);
      el("span", { "class": "explorable-swatch", style: "background:" + colour }, legendNode);
      legendNode.appendChild(document.createTextNode(title));
      return fieldset;
    }
    var sgdBox = box("gradient descent", COLOURS.red);
    var sgdLr = slider(sgdBox, { id: figure.id + "-sgd-lr", name: "sgd-lr", label: "\u03b7",
                                 values: decimals(0.001, 0.025, 0.001, 3), initial: "0.019" },
                       draw);
    var momBox = box("momentum", COLOURS.green);
    var momLr = slider(momBox, { id: figure.id + "-momentum-lr", name: "momentum-lr",
                                 label: "\u03b7", values: decimals(0.0005, 0.015, 0.0005, 4),
                                 initial: "0.004" }, draw);
    var momMu = slider(momBox, { id: figure.id + "-momentum", name: "momentum", label: "\u03bc",
                                 values: decimals(0, 0.99, 0.01, 2), initial: "0.9" }, draw);
    var adamBox = box("Adam", COLOURS.purple);
    var adamLr = slider(adamBox, { id: figure.id + "-adam-lr", name: "adam-lr", label: "\u03b7",
                                   values: decimals(0.01, 1, 0.01, 2), initial: "0.3" }, draw);
    var adamB1 = slider(adamBox, { id: figure.id + "-beta1", name: "beta1", label: "\u03b2\u2081",
                                   values: decimals(0, 0.99, 0.01, 2), initial: "0.9" }, draw);
    var adamB2 = slider(adamBox, { id: figure.id + "-beta2", name: "beta2", label: "\u03b2\u2082",
                                   values: ["0.9", "0.95", "0.99", "0.995", "0.999", "0.9999"],
                                   initial: "0.999" }, draw);
    var presets = group(body, "explorable-presets");
    button(presets, "the chapter's settings", function () {
      sgdLr.set("0.019"); momLr.set("0.004"); momMu.set("0.9");
      adamLr.set("0.3"); adamB1.set("0.9"); adamB2.set("0.999");
      draw();
    }, { "data-preset": "chapter" });
    var picture = group(body, "explorable-picture");
    var readout = el("ul", { "class": "explorable-results", "aria-live": "polite" }, body);

    function draw() {
      var runs = [
        { key: "sgd", name: "gradient descent", colour: COLOURS.red,
          path: runSgd(sgdLr.value()) },
        { key: "momentum", name: "momentum", colour: COLOURS.green,
          path: runMomentum(momLr.value(), momMu.value()) },
        { key: "adam", name: "Adam", colour: COLOURS.purple,
          path: runAdam(adamLr.value(), adamB1.value(), adamB2.value()) },
      ];
      picture.textContent = "";
      var frame = newSvg(picture, 486, "Paths of gradient descent, momentum and Adam");
      var w = frame.width - 70 - 12;
      var top = panel(frame.root, { left: 70, top: 24, width: w, height: 210 }, {
        x: [-9, 3], y: [-1.3, 1.3], xLabel: "w\u2081 (gentle direction)",
        yLabel: "w\u2082 (steep)", title: ["Paths from the same start (black square)", "Paths from the same start"],
        xTicks: 6, yTicks: 4,
      });
      [0.1, 0.2, 0.43, 0.9, 1.9, 4, 8.5, 18, 38, 80].forEach(function (level) {
        var rx = Math.sqrt(2 * level);
        var ry = Math.sqrt(level / 50);
        svg("ellipse", { cx: top.x(0), cy: top.y(0), rx: top.x(rx) - top.x(0),
                         ry: top.y(0) - top.y(ry), "class": "explorable-contour" }, top.plot);
      });
      svg("rect", { x: top.x(START[0]) - 5, y: top.y(START[1]) - 5, width: 10, height: 10,
                    fill: "#111" }, top.plot);
      svg("text", { x: top.x(0), y: top.y(0) + 5, "text-anchor": "middle",
                    "class": "explorable-star" }, top.plot, "\u2605");

      var bottom = panel(frame.root, { left: 70, top: 306, width: w, height: 130 }, {
        x: [0, STEPS], y: [1e-8, 1e4], logY: true, xLabel: "step",
        yLabel: "loss (log)", title: "Loss at each step", xTicks: 5, yTicks: 4,
      });
      readout.textContent = "";
      runs.forEach(function (run) {
        var finite = run.path.map(function (p) { return [p[0], p[1]]; });
        polyline(top.plot, finite.map(function (p) {
          return [clampPx(top.x(p[0])), clampPx(top.y(p[1]))];
        }), {
          stroke: run.colour, "stroke-width": 1.6, "class": "explorable-trajectory",
          "data-optimizer": run.key, "data-trajectory": JSON.stringify(run.path),
        });
        run.path.forEach(function (p) {
          if (isFinite(p[0]) && isFinite(p[1])) {
            svg("circle", { cx: clampPx(top.x(p[0])), cy: clampPx(top.y(p[1])), r: 1.8,
                            fill: run.colour }, top.plot);
          }
        });
        var losses = run.path.map(loss);
        polyline(bottom.plot, losses.map(function (v, k) {
          return [bottom.x(k), clampPx(bottom.y(Math.min(Math.max(v, 1e-12), 1e12)))];
        }), { stroke: run.colour, "stroke-width": 2 });
        var last = losses[STEPS];
        var item = el("li", { "data-optimizer": run.key, "data-final-loss": String(last) },
                      readout);
        el("span", { "class": "explorable-swatch", style: "background:" + run.colour }, item);
        var verdict = !isFinite(last) || last > loss(START) ?
          " \u2014 diverged: the steps grow instead of settling" : "";
        item.appendChild(document.createTextNode(
          run.name + ": loss after " + STEPS + " steps " + format(last, 3) + verdict));
      });
      show(picture, frame.root);
    }
    return draw;
  }

  // --- 3. the backward pass of y = (a + b) * c, node by node -------------------------------

  function backpropGraph(figure, body) {
    var inputs = group(body, "explorable-controls explorable-inputs");
    var fields = {};
    [["a", "2"], ["b", "-3"], ["c", "10"]].forEach(function (pair) {
      var row = group(inputs, "explorable-control");
      var id = figure.id + "-" + pair[0];
      el("label", { "for": id }, row, pair[0] + " =");
      fields[pair[0]] = el("input", { type: "number", step: "any", id: id, value: pair[1],
                                      "data-setting": pair[0] }, row);
      fields[pair[0]].addEventListener("input", draw);
    });
    var nav = group(body, "explorable-presets");
    var stage = 0;
    var back = button(nav, "\u25c0 Back", function () { stage = Math.max(0, stage - 1); draw(); },
                      { "data-action": "back" });
    var next = button(nav, "Next step \u25b6", function () {
      stage = Math.min(STAGES.length - 1, stage + 1); draw();
    }, { "data-action": "next" });
    button(nav, "Show all", function () { stage = STAGES.length - 1; draw(); },
           { "data-action": "all" });
    button(nav, "Start again", function () { stage = 0; draw(); }, { "data-action": "reset" });
    var counter = el("span", { "class": "explorable-counter" }, nav);
    var picture = group(body, "explorable-picture");
    var narration = el("p", { "class": "explorable-readout", "aria-live": "polite" }, body);

    // Each stage computes one more node: forward values first, then gradients backwards.
    var STAGES = ["start", "s", "y", "grad-y", "grad-c", "grad-s", "grad-a", "grad-b"];
    var last = { a: 2, b: -3, c: 10 };

    function read() {
      ["a", "b", "c"].forEach(function (name) {
        var value = parseFloat(fields[name].value);
        if (isFinite(value)) { last[name] = value; }
      });
      return last;
    }

    function sign(x) { return x < 0 ? "(" + format(x, 6) + ")" : format(x, 6); }

    function draw() {
      var v = read();
      var s = v.a + v.b; // forward pass
      var y = s * v.c;
      var dy = 1; // backward pass: the output's gradient with respect to itself
      var ds = v.c * dy; // a product hands each input the other input's value
      var dc = s * dy;
      var da = ds * 1; // a sum passes the gradient on unchanged
      var db = ds * 1;
      var done = stage;
      var known = {
        a: { value: v.a, grad: done >= 6 ? da : null },
        b: { value: v.b, grad: done >= 7 ? db : null },
        c: { value: v.c, grad: done >= 4 ? dc : null },
        s: { value: done >= 1 ? s : null, grad: done >= 5 ? ds : null },
        y: { value: done >= 2 ? y : null, grad: done >= 3 ? dy : null },
      };
      var current = { 1: "s", 2: "y", 3: "y", 4: "c", 5: "s", 6: "a", 7: "b" }[done];
      var story = [
        "The inputs are given: a = " + format(v.a, 6) + ", b = " + format(v.b, 6) + ", c = " +
          format(v.c, 6) + ". Press \u201cNext step\u201d to run the forward pass.",
        "Forward: s = a + b = " + format(v.a, 6) + " + " + sign(v.b) + " = " + format(s, 6) + ".",
        "Forward: y = s \u00b7 c = " + sign(s) + " \u00b7 " + sign(v.c) + " = " + format(y, 6) +
          ". The forward pass is done; now the gradients flow back from y.",
        "Backward: \u2202y/\u2202y = 1. The output changes one for one with itself.",
        "Backward through the product: \u2202y/\u2202c = s \u00b7 1 = " + format(dc, 6) +
          ". A product hands each input the value of the other.",
        "Backward through the product: \u2202y/\u2202s = c \u00b7 1 = " + format(ds, 6) + ".",
        "Backward through the sum: \u2202y/\u2202a = \u2202y/\u2202s \u00b7 1 = " +
          format(da, 6) + ". A sum passes the gradient on unchanged.",
        "Backward through the sum: \u2202y/\u2202b = \u2202y/\u2202s \u00b7 1 = " +
          format(db, 6) + ". Every node now has its gradient.",
      ][done];
      narration.textContent = story;
      counter.textContent = "step " + done + " of " + (STAGES.length - 1);
      back.disabled = done === 0;
      next.disabled = done === STAGES.length - 1;

      picture.textContent = "";
      var frame = newSvg(picture, 300, "Computation graph of y = (a + b) times c");
      var W = frame.width;
      var boxW = Math.min(150, W * 0.22);
      var boxH = 62;
      var pos = {
        a: [boxW / 2 + 8, 62], b: [boxW / 2 + 8, 160], c: [W / 2, 250],
        s: [W / 2, 110], y: [W - boxW / 2 - 8, 180],
      };
      // (from, to, local rate, the stage at which the backward pass uses it)
      var edges = [["a", "s", "\u2202s/\u2202a = 1", 6], ["b", "s", "\u2202s/\u2202b = 1", 7],
                   ["s", "y", "\u2202y/\u2202s = c", 5], ["c", "y", "\u2202y/\u2202c = s", 4]];
      svg("defs", {}, frame.root).innerHTML =
        '<marker id="' + figure.id + '-arrow" viewBox="0 0 10 10" refX="9" refY="5" ' +
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">' +
        '<path d="M0 0L10 5L0 10z" fill="' + COLOURS.slate + '"/></marker>';
      edges.forEach(function (edge) {
        var p = pos[edge[0]];
        var q = pos[edge[1]];
        var dx = q[0] - p[0];
        var dyy = q[1] - p[1];
        var t0 = Math.min((boxW / 2 + 4) / Math.abs(dx || 1e-9), (boxH / 2 + 4) / Math.abs(dyy || 1e-9));
        var x1 = p[0] + dx * t0;
        var y1 = p[1] + dyy * t0;
        var x2 = q[0] - dx * t0;
        var y2 = q[1] - dyy * t0;
        svg("line", { x1: x1, y1: y1, x2: x2, y2: y2, stroke: COLOURS.slate, "stroke-width": 1.6,
                      "marker-end": "url(#" + figure.id + "-arrow)" }, frame.root);
        if (done >= edge[3]) {
          svg("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 6, "text-anchor": "middle",
                        "class": "explorable-edge-label" }, frame.root, edge[2]);
        }
      });
      ["a", "b", "c", "s", "y"].forEach(function (name) {
        var p = pos[name];
        var state = known[name];
        var g = svg("g", {
          "class": "explorable-node" + (name === current ? " is-current" : ""),
          "data-node": name, "data-value": state.value === null ? "" : String(state.value),
          "data-grad": state.grad === null ? "" : String(state.grad),
        }, frame.root);
        svg("rect", { x: p[0] - boxW / 2, y: p[1] - boxH / 2, width: boxW, height: boxH, rx: 8,
                      fill: name === "s" || name === "y" ? "#fde68a" : "#dbeafe" }, g);
        var title = { a: "a", b: "b", c: "c", s: "s = a + b", y: "y = s \u00b7 c" }[name];
        svg("text", { x: p[0], y: p[1] - 12, "text-anchor": "middle",
                      "class": "explorable-node-title" }, g, title);
        svg("text", { x: p[0], y: p[1] + 6, "text-anchor": "middle",
                      "class": "explorable-node-value" }, g,
            "value " + (state.value === null ? "?" : format(state.value, 6)));
        svg("text", { x: p[0], y: p[1] + 23, "text-anchor": "middle",
                      "class": "explorable-node-grad" }, g,
            "grad " + (state.grad === null ? "?" : format(state.grad, 6)));
      });
      show(picture, frame.root);
    }
    return draw;
  }

  // --- 4. mini-batches of one epoch ------------------------------------------------------------

  function minibatches(figure, body) {
    var inputs = group(body, "explorable-controls explorable-inputs");
    function field(name, label, value) {
      var row = group(inputs, "explorable-control");
      var id = figure.id + "-" + name;
      el("label", { "for": id }, row, label);
      var input = el("input", { type: "number", id: id, min: 1, step: 1, value: value,
                                "data-setting": name }, row);
      input.addEventListener("input", draw);
      return input;
    }
    var nField = field("n", "examples N", "10000");
    var bField = field("batch", "batch size B", "32");
    var eField = field("epochs", "epochs", "10");
    var dropRow = group(inputs, "explorable-control");
    var drop = el("input", { type: "checkbox", id: figure.id + "-drop", "data-setting": "drop_last" },
                  dropRow);
    el("label", { "for": figure.id + "-drop" }, dropRow, "drop_last (drop an incomplete batch)");
    drop.addEventListener("change", draw);
    var presets = group(body, "explorable-presets");
    [["10,000 in batches of 32", 10000, 32], ["10,000 in batches of 100", 10000, 100],
     ["the digits: 1,197 in batches of 128", 1197, 128]].forEach(function (p) {
      button(presets, p[0], function () { nField.value = p[1]; bField.value = p[2]; draw(); },
             { "data-preset": p[1] + "/" + p[2] });
    });
    var readout = el("div", { "class": "explorable-readout", "aria-live": "polite" }, body);
    var picture = group(body, "explorable-picture");
    var last = { n: 10000, batch: 32, epochs: 10 };

    function whole(input, key, high) {
      var value = Number(input.value);
      if (Number.isInteger(value) && value >= 1 && value <= high) {
        last[key] = value;
        input.removeAttribute("aria-invalid");
      } else {
        input.setAttribute("aria-invalid", "true");
      }
      return last[key];
    }

    function draw() {
      var n = whole(nField, "n", 1e8);
      var b = whole(bField, "batch", 1e8);
      var epochs = whole(eField, "epochs", 1e6);
      var dropLast = drop.checked;
      var full = Math.floor(n / b);
      var rest = n - full * b;
      var iterations = full + (rest && !dropLast ? 1 : 0); // as num_iterations counts them
      var batches = []; // run-length list of batch sizes: [[size, how many], ...]
      if (full) { batches.push([b, full]); }
      if (rest && !dropLast) { batches.push([rest, 1]); }
      var used = n - (dropLast ? rest : 0);
      figure.setAttribute("data-iterations", String(iterations));
      figure.setAttribute("data-batches", JSON.stringify(batches));

      readout.textContent = "";
      var headline = el("p", { "class": "explorable-headline" }, readout);
      el("strong", { "data-result": "iterations" }, headline, iterations.toLocaleString("en-US"));
      headline.appendChild(document.createTextNode(
        " iteration" + (iterations === 1 ? "" : "s") + " per epoch, " +
        (iterations * epochs).toLocaleString("en-US") + " updates in " +
        epochs.toLocaleString("en-US") + " epoch" + (epochs === 1 ? "" : "s") + "."));
      var detail;
      if (!rest) {
        detail = "The " + n.toLocaleString("en-US") + " examples split evenly into " +
          full.toLocaleString("en-US") + " batches of " + b.toLocaleString("en-US") + ".";
      } else if (dropLast) {
        detail = full.toLocaleString("en-US") + " full batches of " + b.toLocaleString("en-US") +
          "; the last " + rest.toLocaleString("en-US") + " example" + (rest === 1 ? "" : "s") +
          " sit out this epoch (with shuffling, different ones each epoch)." +
          (full ? "" : " The batch is larger than the data set, so nothing is left to train on!");
      } else {
        detail = (full ? full.toLocaleString("en-US") + " full batch" + (full === 1 ? "" : "es") +
          " of " + b.toLocaleString("en-US") + ", then " : "") + "a last batch of only " +
          rest.toLocaleString("en-US") + ": \u2308" + n.toLocaleString("en-US") + " / " +
          b.toLocaleString("en-US") + "\u2309 = " + iterations.toLocaleString("en-US") + ".";
      }
      el("p", {}, readout, detail);

      picture.textContent = "";
      var frame = newSvg(picture, 172, "The examples of one epoch, cut into batches");
      var left = 8;
      var width = frame.width - 16;
      var x = linear(0, n, left, left + width);
      var many = full > 400;
      var shown = many ? [[0, full * b, "full"]] : [];
      if (!many) {
        for (var i = 0; i < full; i++) { shown.push([i * b, (i + 1) * b, i % 2 ? "odd" : "even"]); }
      }
      if (rest) { shown.push([full * b, n, dropLast ? "dropped" : "last"]); }
      shown.forEach(function (part) {
        svg("rect", { x: x(part[0]), y: 22, width: Math.max(0.5, x(part[1]) - x(part[0])),
                      height: 34, "class": "explorable-batch is-" + part[2] }, frame.root);
      });
      var epoch = "one epoch: " + n.toLocaleString("en-US") + " examples";
      fittedText(frame.root, { x: left, y: 14, "class": "explorable-tick" }, many ? [
        epoch + " (" + full.toLocaleString("en-US") + " full batches, too many to draw one by one)",
        epoch + " (" + full.toLocaleString("en-US") + " full batches)"] : [epoch]);
      var note = rest ? (dropLast ? "dropped: " : "last batch: ") + rest.toLocaleString("en-US") : "";
      svg("text", { x: left + width, y: 76, "text-anchor": "end", "class": "explorable-tick" },
          frame.root, note);

      // The end of the epoch, magnified: the last three full batches and what is left over.
      var from = Math.max(0, full - 3) * b;
      var zoom = linear(from, n, left, left + width);
      var range = "examples " + (from + 1).toLocaleString("en-US") + " to " + n.toLocaleString("en-US");
      fittedText(frame.root, { x: left, y: 104, "class": "explorable-tick" },
                 ["the end of the epoch, magnified: " + range, "the end, magnified: " + range, range]);
      for (var k = Math.max(0, full - 3); k < full; k++) {
        svg("rect", { x: zoom(k * b), y: 112, width: zoom((k + 1) * b) - zoom(k * b),
                      height: 34, "class": "explorable-batch is-" + (k % 2 ? "odd" : "even") },
            frame.root);
        svg("text", { x: (zoom(k * b) + zoom((k + 1) * b)) / 2, y: 134, "text-anchor": "middle",
                      "class": "explorable-tick" }, frame.root, "batch " + (k + 1).toLocaleString("en-US"));
      }
      if (rest) {
        svg("rect", { x: zoom(full * b), y: 112, width: zoom(n) - zoom(full * b), height: 34,
                      "class": "explorable-batch is-" + (dropLast ? "dropped" : "last") },
            frame.root);
        svg("text", { x: left + width, y: 162, "text-anchor": "end", "class": "explorable-tick" },
            frame.root, (dropLast ? rest.toLocaleString("en-US") + " sit out" :
                         "batch " + iterations.toLocaleString("en-US") + ": only " +
                         rest.toLocaleString("en-US")));
      }
      show(picture, frame.root);
      legend(picture, [
        { colour: "#93c5fd", label: "full batches (alternating shades)" },
        { colour: "#f59e0b", label: "last, smaller batch" },
        { colour: "#cbd5e1", label: "dropped examples" },
      ]);
    }
    return draw;
  }

  // --- set-up ---------------------------------------------------------------------------------

  var KINDS = {
    "gradient-descent": gradientDescent,
    "optimizer-race": optimizerRace,
    "backprop-graph": backpropGraph,
    "minibatches": minibatches,
  };

  function init() {
    var figures = document.querySelectorAll(".explorable[data-explorable]");
    Array.prototype.forEach.call(figures, function (figure) {
      var make = KINDS[figure.getAttribute("data-explorable")];
      var body = figure.querySelector(".explorable-body");
      if (!make || !body || figure.classList.contains("is-ready")) { return; }
      figure.classList.add("is-ready"); // shows the body (CSS) so that it has a width
      var draw = make(figure, body);
      draw();
      var width = body.clientWidth;
      window.addEventListener("resize", function () {
        if (Math.abs(body.clientWidth - width) > 8) { width = body.clientWidth; draw(); }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
