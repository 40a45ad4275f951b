/* Trends page: every plotted value as a scatter with error bars, drawn with uPlot
   (vendor/uplot, MIT) from /trends/data.json (compact arrays, one series per colour and
   review state). Accepted fits are filled circles; fits pending review open rings drawn
   above them (a ring hides only its outline), in a second colour when there is one series.
   Drag a box to zoom, double-click to zoom out, hover a point for its batch, sample and
   run, click it to open the run; click a legend entry to hide that series. */
(function () {
  "use strict";

  // Paul Tol's "bright" and "muted" qualitative palettes (as compare.js): colour-blind safe.
  var COLOURS = ["#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB",
                 "#332288", "#117733", "#882255", "#44AA99", "#999933"];
  var PENDING_COLOUR = "#E6550D";
  var HOVER_PX = 8;

  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return "—";
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3);
    return Number(v.toPrecision(5)).toString();
  }

  // The precision rule of labtrack/core/numbers.py (number_text), for the tooltip: the
  // error to two significant figures, the value to the same decimals.
  function measured(v, err) {
    if (!err || !isFinite(err) || err <= 0 || v === null || v === undefined || !isFinite(v)) return fmt(v);
    var d = Math.min(8, Math.max(0, 1 - Math.floor(Math.log10(err))));
    return v.toFixed(d) + " ± " + err.toFixed(d);
  }

  function colourOf(data, s) {
    if (s.state === "pending" && data.groups.length === 1) return PENDING_COLOUR;
    return COLOURS[s.group % COLOURS.length];
  }

  function init() {
    var box = document.querySelector("[data-trend-plot]");
    if (!box || !window.uPlot) return;
    var status = document.querySelector("[data-role=trend-status]");
    var data = null, plot = null, hovered = null, keyed = false;
    var live = document.createElement("p");  // what a screen reader hears as the keys move
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    box.after(live);
    var drawn = {bars: 0, accepted: 0, pending: 0};  // what the last redraw put on the canvas
    var tip = document.createElement("div");
    tip.className = "trend-tip";
    tip.setAttribute("role", "tooltip");
    var ts = tip.style;
    ts.position = "absolute"; ts.pointerEvents = "none"; ts.whiteSpace = "pre"; ts.zIndex = "10";
    ts.background = "#fff"; ts.border = "1px solid #888"; ts.padding = "4px 6px"; ts.font = "12px sans-serif";
    ts.color = "#1b1f24"; ts.display = "none";

    function size(series) {
      var n = 0;
      series.forEach(function (s) { n += s.x.length; });
      return n > 2000 ? 2.5 : (n > 300 ? 3 : 3.5);
    }

    /* One series: error bars, then its markers, straight onto the canvas (uPlot mode 2
       draws nothing itself when `paths` returns null). */
    function drawSeries(u, si) {
      var s = data.series[si - 1], ctx = u.ctx, colour = colourOf(data, s);
      var xs = s.x, ys = s.y, ye = s.yerr, xe = s.xerr, n = xs.length, i;
      var sx = u.scales.x, sy = u.scales.y, r = size(data.series) * uPlot.pxRatio;
      var bb = u.bbox;
      ctx.save();
      ctx.beginPath(); ctx.rect(bb.left, bb.top, bb.width, bb.height); ctx.clip();
      if (ye || xe) {
        ctx.beginPath();
        for (i = 0; i < n; i++) {
          if (xs[i] < sx.min || xs[i] > sx.max || ys[i] === null) continue;
          var cx = u.valToPos(xs[i], "x", true), cy = u.valToPos(ys[i], "y", true);
          if ((ye && ye[i]) || (xe && xe[i])) drawn.bars++;
          if (ye && ye[i]) { ctx.moveTo(cx, u.valToPos(ys[i] - ye[i], "y", true)); ctx.lineTo(cx, u.valToPos(ys[i] + ye[i], "y", true)); }
          if (xe && xe[i]) { ctx.moveTo(u.valToPos(xs[i] - xe[i], "x", true), cy); ctx.lineTo(u.valToPos(xs[i] + xe[i], "x", true), cy); }
        }
        ctx.globalAlpha = 0.45; ctx.strokeStyle = colour; ctx.lineWidth = uPlot.pxRatio; ctx.stroke();
        ctx.globalAlpha = 1;
      }
      var p = new Path2D();
      for (i = 0; i < n; i++) {
        if (xs[i] < sx.min || xs[i] > sx.max || ys[i] === null || ys[i] < sy.min || ys[i] > sy.max) continue;
        var px = u.valToPos(xs[i], "x", true), py = u.valToPos(ys[i], "y", true);
        p.moveTo(px + r, py); p.arc(px, py, r, 0, 2 * Math.PI);
        drawn[s.state]++;
      }
      if (s.state === "accepted") { ctx.fillStyle = colour; ctx.fill(p); }
      else { ctx.fillStyle = "rgba(255,255,255,0.6)"; ctx.fill(p); ctx.strokeStyle = colour; ctx.lineWidth = 1.2 * uPlot.pxRatio; ctx.stroke(p); }
      ctx.restore();
      return null;
    }

    /* A few batches: each sample's points joined in age order (an ageing series), below the markers. */
    function drawLines(u) {
      if (!data.join_samples) return;
      var bySample = {};
      data.series.forEach(function (s, k) {
        if (!u.series[k + 1].show) return;
        for (var i = 0; i < s.x.length; i++) {
          var key = s.group + ":" + s.sample[i];
          (bySample[key] = bySample[key] || {group: s.group, pts: []}).pts.push([s.x[i], s.y[i]]);
        }
      });
      var ctx = u.ctx, bb = u.bbox;
      ctx.save();
      ctx.beginPath(); ctx.rect(bb.left, bb.top, bb.width, bb.height); ctx.clip();
      Object.keys(bySample).forEach(function (key) {
        var line = bySample[key];
        if (line.pts.length < 2) return;
        line.pts.sort(function (a, b) { return a[0] - b[0]; });
        ctx.beginPath();
        line.pts.forEach(function (pt, i) {
          var x = u.valToPos(pt[0], "x", true), y = u.valToPos(pt[1], "y", true);
          if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
        });
        ctx.globalAlpha = 0.6; ctx.strokeStyle = COLOURS[line.group % COLOURS.length];
        ctx.lineWidth = uPlot.pxRatio; ctx.stroke();
      });
      ctx.restore();
    }

    function nearest(u) {
      var left = u.cursor.left, top = u.cursor.top, best = null, bestD = HOVER_PX * HOVER_PX;
      if (left === undefined || left < 0) return null;
      data.series.forEach(function (s, k) {
        if (!u.series[k + 1].show) return;
        for (var i = 0; i < s.x.length; i++) {
          var dx = u.valToPos(s.x[i], "x") - left;
          if (dx > HOVER_PX || dx < -HOVER_PX) continue;
          var dy = u.valToPos(s.y[i], "y") - top, d = dx * dx + dy * dy;
          if (d <= bestD) { bestD = d; best = {s: s, i: i}; }
        }
      });
      return best;
    }

    function showTip(u) {
      if (keyed) return;  // a point chosen with the keys stays until the mouse moves again
      tipAt(u, nearest(u));
    }

    function tipAt(u, hit) {
      hovered = hit;
      if (!hit) { ts.display = "none"; u.over.style.cursor = ""; return; }
      var s = hit.s, i = hit.i;
      var value = measured(s.y[i], s.yerr && s.yerr[i]) + (data.unit ? " " + data.unit : "");
      tip.textContent = data.batches[s.batch[i]] + " · " + data.samples[s.sample[i]] + "\n" +
        data.x_label + ": " + measured(s.x[i], s.xerr && s.xerr[i]) + "\n" +
        value + "\nrun #" + s.run[i] + (s.state === "accepted" ? " · accepted" : " · pending review");
      ts.display = "block";
      // Beside the point, never over it: to its left when the right edge is near.
      var x = u.valToPos(s.x[i], "x"), y = u.valToPos(s.y[i], "y"), w = tip.offsetWidth;
      ts.left = (x + 12 + w <= u.over.clientWidth ? x + 12 : Math.max(0, x - 12 - w)) + "px";
      ts.top = Math.max(0, y - 70) + "px";
      u.over.style.cursor = "pointer";
    }

    /* Keyboard: the chart takes focus; arrows step through the shown points in x order
       (the tooltip follows and is read out), Enter opens the point's run, Escape hides. */
    function keyOrder() {
      var pts = [];
      data.series.forEach(function (s, k) {
        if (!plot.series[k + 1].show) return;
        for (var i = 0; i < s.x.length; i++) pts.push({s: s, i: i});
      });
      pts.sort(function (a, b) { return (a.s.x[a.i] - b.s.x[b.i]) || (a.s.y[a.i] - b.s.y[b.i]); });
      return pts;
    }

    function openHovered() {
      if (hovered) window.location.href = "/runs/" + hovered.s.run[hovered.i] + "/";
    }

    function onKey(e) {
      if (!plot) return;
      var steps = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, PageDown: 10, PageUp: -10};
      if (e.key === "Enter" && hovered) {
        openHovered();
      } else if (e.key === "Escape") {
        keyed = false; tipAt(plot, null); live.textContent = "";
      } else if (steps[e.key] || e.key === "Home" || e.key === "End") {
        var pts = keyOrder();
        if (!pts.length) return;
        var at = keyed ? pts.findIndex(function (p) { return p.s === hovered.s && p.i === hovered.i; }) : -1;
        var next = e.key === "Home" ? 0 : e.key === "End" ? pts.length - 1 :
          Math.max(0, Math.min(pts.length - 1, at < 0 ? 0 : at + steps[e.key]));
        keyed = true;
        tipAt(plot, pts[next]);
        live.textContent = "Point " + (next + 1) + " of " + pts.length + ": " + tip.textContent.replace(/\n/g, "; ");
      } else {
        return;
      }
      e.preventDefault();
    }

    function width() { return Math.max(320, box.clientWidth); }

    function padded(u, min, max) {
      if (min === null || max === null) return [min, max];
      var pad = (max - min) * 0.04 || Math.abs(max) * 0.04 || 1;
      return [min - pad, max + pad];
    }

    function draw() {
      if (plot) { plot.destroy(); plot = null; }
      box.replaceChildren();
      if (!data.series.length) return;
      var series = [{}];
      data.series.forEach(function (s) {
        var colour = colourOf(data, s);
        series.push({label: s.label, stroke: colour, fill: s.state === "accepted" ? colour : "#fff",
                     width: s.state === "accepted" ? 0 : 1.5, paths: drawSeries,
                     points: {show: false}});
      });
      var opts = {
        mode: 2, width: width(), height: Math.round(Math.min(520, Math.max(320, width() * 0.5))),
        // 4 % of the span as margin: markers at the extremes (day 0, the oldest sample) are drawn whole.
        scales: {x: {time: false, range: padded}, y: {range: padded}},
        axes: [{label: data.x_label, stroke: "#1b1f24", grid: {stroke: "#e3e7eb"}},
               {label: data.y_label, stroke: "#1b1f24", grid: {stroke: "#e3e7eb"}, size: 60}],
        series: series,
        legend: {live: false},
        cursor: {drag: {x: true, y: true, uni: 20, setScale: true}, points: {show: false}},
        hooks: {drawClear: [function () { drawn = {bars: 0, accepted: 0, pending: 0}; }],
                 drawAxes: [drawLines], setCursor: [showTip],
                 draw: [function () {
                   // For a reader of the DOM (and the browser test): what is on the canvas now.
                   box.setAttribute("data-drawn-bars", String(drawn.bars));
                   box.setAttribute("data-drawn-accepted", String(drawn.accepted));
                   box.setAttribute("data-drawn-pending", String(drawn.pending));
                 }]}
      };
      var aligned = [null].concat(data.series.map(function (s) { return [s.x, s.y]; }));
      plot = new uPlot(opts, aligned, box);
      plot.over.appendChild(tip);
      plot.over.addEventListener("mousemove", function () { keyed = false; });
      plot.over.addEventListener("click", openHovered);
      box.uplot = plot;
      box.trendData = data;
      box.setAttribute("data-series", String(data.series.length));
    }

    status.textContent = "Loading the points…";
    fetch(box.getAttribute("data-data-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (body) {
        data = body;
        var pending = data.n_points - data.n_accepted;
        status.textContent = data.n_points ? data.n_points + " point" + (data.n_points === 1 ? "" : "s") + " drawn: " +
          data.n_accepted + " accepted (filled)" + (pending ? ", " + pending + " pending review (open, drawn on top)" : "") + "." :
          "No values to plot.";
        draw();
        box.setAttribute("data-ready", "1");
      })
      .catch(function (e) { status.textContent = "Could not load the points (" + e.message + "); the SVG and PNG downloads still work."; });

    box.addEventListener("keydown", onKey);

    var resizeTimer = null;
    window.addEventListener("resize", function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () { if (plot) plot.setSize({width: width(), height: plot.height}); }, 150);
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
