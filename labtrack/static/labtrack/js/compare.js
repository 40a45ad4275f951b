/* Compare view: the stored curves of several measurements overlaid or stacked with uPlot
   (vendor/uplot, MIT). Data from /compare/data.json (normalised and decimated on the
   server); zoom by dragging, double-click to reset; PNG, SVG and CSV downloads. */
(function () {
  "use strict";

  // Paul Tol's "bright" and "muted" qualitative palettes: distinguishable for colour-blind readers.
  var COLOURS = ["#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB",
                 "#332288", "#117733", "#882255", "#44AA99", "#999933"];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function sortedPairs(xs, ys) {
    var idx = xs.map(function (_, i) { return i; }).filter(function (i) { return xs[i] !== null; });
    idx.sort(function (a, b) { return xs[a] - xs[b]; });
    return [idx.map(function (i) { return xs[i]; }), idx.map(function (i) { return ys[i]; })];
  }

  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return "—";
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3);
    return Number(v.toPrecision(5)).toString();
  }

  /* The series of the chart: one per trace, then (optionally) fit and components. */
  function buildSeries(data, layout, offset) {
    var tables = [], series = [{label: data.axis.x_label, value: function (u, v) { return fmt(v); }}];
    var logY = data.axis.log_y;
    // The offset is in heights of the tallest curve (decades on a log axis), so stacking
    // reads the same whether the curves are normalised to maximum, to area or not at all.
    var tallest = 0;
    data.traces.forEach(function (t) {
      t.y.forEach(function (y) { if (y !== null && Math.abs(y) > tallest) tallest = Math.abs(y); });
    });
    var step = logY ? offset : offset * (tallest || 1);
    data.traces.forEach(function (t, i) {
      var colour = COLOURS[i % COLOURS.length];
      var shift = layout === "stack" ? i * step : 0;
      function shifted(ys) {
        return ys.map(function (y) {
          if (y === null) return null;
          if (logY) return y > 0 ? y * Math.pow(10, shift) : null;
          return y + shift;
        });
      }
      tables.push(sortedPairs(t.x, shifted(t.y)));
      series.push({label: t.label, stroke: colour, width: 1.5, value: function (u, v) { return fmt(v); }});
      if (t.fit) {
        tables.push(sortedPairs(t.fit.x, shifted(t.fit.y)));
        series.push({label: t.sample + " fit", stroke: colour, width: 1, dash: [6, 3],
                     value: function (u, v) { return fmt(v); }});
      }
      (t.components || []).forEach(function (c) {
        tables.push(sortedPairs(c.x || t.fit.x, shifted(c.y)));   // components are sampled at the fit's x
        series.push({label: t.sample + " " + c.label, stroke: colour, width: 0.8, dash: [2, 3],
                     value: function (u, v) { return fmt(v); }});
      });
    });
    return {tables: tables, series: series};
  }

  function init() {
    var box = document.querySelector("[data-compare-plot]");
    if (!box || !window.uPlot) return;
    var form = document.querySelector("[data-compare-form]");
    var status = document.querySelector("[data-role=compare-status]");
    var legend = document.querySelector("[data-role=compare-legend]");
    var skipped = document.querySelector("[data-role=compare-skipped]");
    var csvLink = document.querySelector("[data-download=csv]");
    var plot = null, current = null;
    var axisWanted = form.elements.axis.getAttribute("data-current");
    if (axisWanted) form.elements.axis.appendChild(el("option", {value: axisWanted, selected: "selected"}, axisWanted));

    function query() {
      var params = new URLSearchParams(new FormData(form));
      params.delete("layout"); params.delete("offset");
      if (!params.get("axis")) params.delete("axis");
      return params.toString();
    }

    function width() { return Math.max(320, box.clientWidth); }

    function draw() {
      if (!current) return;
      var layout = form.elements.layout.value;
      var offset = parseFloat(form.elements.offset.value) || 0;
      var built = buildSeries(current, layout, offset);
      if (plot) { plot.destroy(); plot = null; }
      if (!current.traces.length) { box.replaceChildren(); return; }
      var aligned = uPlot.join(built.tables);
      var ax = current.axis;
      var opts = {
        width: width(), height: Math.round(Math.min(560, Math.max(320, width() * 0.5))),
        scales: {x: {time: false, dir: ax.x_reversed ? -1 : 1, distr: ax.log_x ? 3 : 1},
                 y: {distr: ax.log_y ? 3 : 1}},
        axes: [{label: ax.x_label, stroke: "#1b1f24", grid: {stroke: "#e3e7eb"}},
               {label: ax.y_label, stroke: "#1b1f24", grid: {stroke: "#e3e7eb"}, size: 70}],
        series: built.series,
        cursor: {drag: {x: true, y: false, setScale: true}},
        legend: {live: true},
        hooks: {setScale: [function (u, key) {
          if (key === "x") {
            box.setAttribute("data-x-min", String(u.scales.x.min));
            box.setAttribute("data-x-max", String(u.scales.x.max));
          }
        }]}
      };
      box.replaceChildren();
      plot = new uPlot(opts, aligned, box);
      box.uplot = plot;
      var focus = ax.focus;
      if (focus && focus[1] > focus[0] && !ax.log_x) {
        var pad = (focus[1] - focus[0]) * 0.05;
        plot.setScale("x", {min: focus[0] - pad, max: focus[1] + pad});
      }
      box.setAttribute("data-x-min", String(plot.scales.x.min));
      box.setAttribute("data-x-max", String(plot.scales.x.max));
      box.setAttribute("data-series", String(built.series.length - 1));
    }

    function showLists(data) {
      legend.replaceChildren();
      data.traces.forEach(function (t, i) {
        var li = el("li");
        var swatch = el("span", {"class": "swatch swatch-" + (i % COLOURS.length), "aria-hidden": "true"});
        li.appendChild(swatch);
        var a = el("a", {href: "/runs/" + t.run + "/"}, t.label);
        li.appendChild(a);
        if (t.detail) li.appendChild(document.createTextNode(" · " + t.detail));
        li.appendChild(document.createTextNode(t.of_record ? " · result of record" : " · not yet reviewed"));
        legend.appendChild(li);
      });
      skipped.replaceChildren();
      if (data.skipped.length) {
        var p = el("p", {"class": "notice"}, "Not shown (" + data.skipped.length + "): ");
        p.appendChild(document.createTextNode(data.skipped.map(function (s) { return s.label + " — " + s.reason; }).join("; ")));
        skipped.appendChild(p);
      }
      if (data.truncated) {
        skipped.appendChild(el("p", {"class": "notice"}, "Only the first " + data.max_measurements + " measurements are shown."));
      }
      var axisField = document.querySelector("[data-role=axis-field]");
      var axisSelect = form.elements.axis;
      if (data.axis.choices.length > 1 && axisSelect.options.length < data.axis.choices.length) {
        axisSelect.replaceChildren();
        data.axis.choices.forEach(function (c) {
          var o = el("option", {value: c}, c);
          if (c === data.axis.key) o.selected = true;
          axisSelect.appendChild(o);
        });
        axisField.hidden = false;
      }
    }

    function load() {
      var q = query();
      status.textContent = "Loading the stored curves…";
      if (csvLink) csvLink.setAttribute("href", box.getAttribute("data-csv-url") + "?" + q);
      history.replaceState(null, "", "?" + new URLSearchParams(new FormData(form)).toString());
      fetch(box.getAttribute("data-data-url").split("?")[0] + "?" + q,
            {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); })
        .then(function (res) {
          if (!res.ok) { status.textContent = res.body.error || "Could not load the curves."; return; }
          current = res.body;
          var n = current.traces.length;
          status.textContent = n ? n + " curve" + (n === 1 ? "" : "s") + " of " + current.technique_label +
            (current.normalise === "none" ? "" : ", normalised to " + current.normalise) + "." :
            "None of the chosen measurements has a stored curve yet.";
          showLists(current);
          draw();
          box.setAttribute("data-ready", "1");
        })
        .catch(function (e) { status.textContent = "Could not load the curves (" + e + ")."; });
    }

    function download(name, blob) {
      var a = el("a", {href: URL.createObjectURL(blob), download: name});
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
    }

    function pngBlob(done) {
      var src = plot.ctx.canvas;
      var c = document.createElement("canvas");
      var rows = Math.ceil((plot.series.length - 1) / 2);
      c.width = src.width; c.height = src.height + 24 + rows * 18;
      var ctx = c.getContext("2d");
      ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
      ctx.drawImage(src, 0, 0);
      ctx.font = "13px sans-serif";
      plot.series.slice(1).forEach(function (s, i) {
        var x = 10 + (i % 2) * (c.width / 2), y = src.height + 18 + Math.floor(i / 2) * 18;
        ctx.fillStyle = s._stroke || s.stroke || "#333";
        ctx.fillRect(x, y - 9, 14, 3);
        ctx.fillStyle = "#1b1f24";
        ctx.fillText(s.label, x + 20, y - 4);
      });
      c.toBlob(done, "image/png");
    }

    function svgText() {
      var w = plot.width, h = plot.height, bb = plot.bbox, dpr = window.devicePixelRatio || 1;
      var left = bb.left / dpr, top = bb.top / dpr, pw = bb.width / dpr, ph = bb.height / dpr;
      var parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="' + w + '" height="' + (h + 20 * plot.series.length) +
                   '" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="#fff"/>'];
      parts.push('<rect x="' + left + '" y="' + top + '" width="' + pw + '" height="' + ph + '" fill="none" stroke="#888"/>');
      function esc(s) { return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;"); }
      ["x", "y"].forEach(function (key) {
        var sc = plot.scales[key], ticks = [], n = 6;
        for (var i = 0; i <= n; i++) ticks.push(sc.min + (sc.max - sc.min) * i / n);
        ticks.forEach(function (v) {
          var p = plot.valToPos(v, key);
          if (key === "x") parts.push('<text x="' + (left + p) + '" y="' + (top + ph + 16) + '" text-anchor="middle">' + fmt(v) + '</text>');
          else parts.push('<text x="' + (left - 6) + '" y="' + (top + p + 4) + '" text-anchor="end">' + fmt(v) + '</text>');
        });
      });
      parts.push('<text x="' + (left + pw / 2) + '" y="' + (top + ph + 34) + '" text-anchor="middle">' + esc(current.axis.x_label) + '</text>');
      parts.push('<text transform="translate(14 ' + (top + ph / 2) + ') rotate(-90)" text-anchor="middle">' + esc(current.axis.y_label) + '</text>');
      plot.series.forEach(function (s, si) {
        if (si === 0 || !s.show) return;
        var xs = plot.data[0], ys = plot.data[si], pts = [], sx = plot.scales.x;
        for (var i = 0; i < xs.length; i++) {
          if (ys[i] === null || ys[i] === undefined || xs[i] < Math.min(sx.min, sx.max) || xs[i] > Math.max(sx.min, sx.max)) continue;
          pts.push((left + plot.valToPos(xs[i], "x")).toFixed(1) + "," + (top + plot.valToPos(ys[i], "y")).toFixed(1));
        }
        var stroke = typeof s.stroke === "function" ? s.stroke(plot, si) : s.stroke;
        parts.push('<polyline fill="none" stroke="' + stroke + '" stroke-width="' + (s.width || 1) + '"' +
                   (s.dash ? ' stroke-dasharray="' + s.dash.join(" ") + '"' : "") + ' points="' + pts.join(" ") + '"/>');
        var ly = h + 14 + 18 * (si - 1);
        parts.push('<line x1="10" x2="30" y1="' + (ly - 4) + '" y2="' + (ly - 4) + '" stroke="' + stroke + '" stroke-width="2"/>');
        parts.push('<text x="36" y="' + ly + '">' + esc(s.label) + '</text>');
      });
      parts.push("</svg>");
      return parts.join("\n");
    }

    document.querySelectorAll("button[data-download]").forEach(function (b) {
      b.addEventListener("click", function () {
        if (!plot) return;
        var base = "compare-" + current.technique;
        if (b.getAttribute("data-download") === "png") pngBlob(function (blob) { download(base + ".png", blob); });
        else download(base + ".svg", new Blob([svgText()], {type: "image/svg+xml"}));
      });
    });
    form.addEventListener("change", function (e) {
      var name = e.target.name;
      if (name === "layout" || name === "offset") draw(); else load();
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
    /* Keyboard: with the chart focused, the arrows move the read-out cursor along x
       (Shift: ten times further) and the legend shows each curve's value there. */
    box.addEventListener("keydown", function (e) {
      var step = {ArrowRight: 1, ArrowLeft: -1}[e.key];
      if (!plot || !step) return;
      var w = plot.over.clientWidth, left = plot.cursor.left;
      left = (left === undefined || left === null || left < 0) ? w / 2 : left + step * (e.shiftKey ? 20 : 2);
      plot.setCursor({left: Math.max(0, Math.min(w - 1, left)), top: plot.over.clientHeight / 2});
      e.preventDefault();
    });
    var resizeTimer = null;
    window.addEventListener("resize", function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () { if (plot) plot.setSize({width: width(), height: plot.height}); }, 150);
    });
    load();
  }

  document.addEventListener("DOMContentLoaded", init);
})();
