/* aekit latent explorer: a zoomable canvas scatter of 2-D codes, coloured by label or by error.
 * Hover a point to see the sample and its reconstruction error; for a variational model, click an empty
 * spot to see the sample decoded at the nearest point of a grid decoded when the report was written.
 * Plain JavaScript, no dependencies, no network: the data arrive in a <script type="application/json">.
 * Points are drawn into one ImageData buffer and hover uses a uniform spatial grid, so tens of thousands
 * of points stay smooth. */
(function () {
  "use strict";
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2",
    "#c7c7c7", "#dbdb8d", "#9edae5"];
  var VIRIDIS = ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"];
  var HOVER_PX = 8; // how close (CSS pixels) the pointer must be to a point
  var MARGIN = { left: 52, right: 10, top: 10, bottom: 34 };

  function typed(b64, Type) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Type(bytes.buffer);
  }
  function rgb(hex) { var v = parseInt(hex.slice(1), 16); return [v >> 16, (v >> 8) & 255, v & 255]; }
  function packed(c) { return ((255 << 24) | (c[2] << 16) | (c[1] << 8) | c[0]) >>> 0; } // ImageData is RGBA little-endian
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(v) { return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : +v.toPrecision(4) + ""; }
  function niceStep(span) {
    var raw = span / 6, mag = Math.pow(10, Math.floor(Math.log10(raw))), r = raw / mag;
    return mag * (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10);
  }

  function Explorer(root, d) {
    this.root = root; this.d = d; this.n = d.n;
    this.x = typed(d.x, Float32Array); this.y = typed(d.y, Float32Array);
    this.label = typed(d.label, Uint16Array); this.err = typed(d.err, Float32Array);
    this.index = typed(d.index, Int32Array);
    this.hidden = new Uint8Array(Math.max(1, d.labelNames.length));
    this.hovered = -1; this.decoded = null; this.ready = false; this.colourBy = "label";
    this.build();
    this.colours();
    this.buildGrid();
    this.loadImages();
    this.resize();
    this.reset();
  }

  Explorer.prototype.build = function () {
    var self = this, d = this.d, root = this.root;
    root.textContent = "";
    var bar = el("div", "aekit-toolbar");
    var select = el("select", "aekit-colour");
    [["label", "colour by label"], ["error", "colour by " + d.errorName]].forEach(function (o) {
      var opt = el("option", null, o[1]); opt.value = o[0]; select.appendChild(opt);
    });
    select.addEventListener("change", function () { self.colourBy = select.value; self.legend(); self.draw(); });
    var reset = el("button", "aekit-reset", "reset view");
    reset.type = "button";
    reset.addEventListener("click", function () { self.reset(); });
    var hint = "scroll to zoom, drag to pan, double-click to reset" +
      (d.grid ? "; click an empty spot to decode it" : "");
    bar.appendChild(select); bar.appendChild(reset); bar.appendChild(el("span", "aekit-hint", hint));
    var main = el("div", "aekit-main");
    this.canvas = el("canvas", "aekit-plot");
    this.canvas.setAttribute("aria-label", "scatter of the codes");
    var panel = el("aside", "aekit-panel");
    this.sampleBox = el("div", "aekit-sample");
    this.sampleBox.appendChild(el("h4", null, "Sample"));
    this.sampleBody = el("div", "aekit-sample-body", "Hover a point.");
    this.sampleBox.appendChild(this.sampleBody);
    panel.appendChild(this.sampleBox);
    if (d.grid) {
      this.decodeBox = el("div", "aekit-decoded");
      this.decodeBox.appendChild(el("h4", null, "Decoded latent point"));
      this.decodeBody = el("div", "aekit-decoded-body", "Click an empty spot of the plot.");
      this.decodeBox.appendChild(this.decodeBody);
      panel.appendChild(this.decodeBox);
    }
    this.legendBox = el("div", "aekit-legend");
    main.appendChild(this.canvas); main.appendChild(panel);
    root.appendChild(bar); root.appendChild(this.legendBox); root.appendChild(main);
    root.appendChild(el("p", "aekit-note", d.note));
    this.ctx = this.canvas.getContext("2d");
    this.bindEvents();
    window.addEventListener("resize", function () { self.resize(); self.draw(); });
  };

  Explorer.prototype.colours = function () {
    var n = this.n, byLabel = new Uint32Array(n), byError = new Uint32Array(n);
    var labelPacked = [], vir = VIRIDIS.map(rgb), i;
    for (i = 0; i < Math.max(1, this.d.labelNames.length); i++) labelPacked.push(packed(rgb(PALETTE[i % PALETTE.length])));
    var order = new Uint32Array(n), err = this.err;
    for (i = 0; i < n; i++) order[i] = i;
    order.sort(function (a, b) { return err[a] - err[b]; });
    for (i = 0; i < n; i++) byLabel[i] = labelPacked[this.label[i]];
    for (i = 0; i < n; i++) {
      var t = n > 1 ? i / (n - 1) : 0, k = Math.min(7, Math.floor(t * 8)), f = t * 8 - k;
      var a = vir[k], b = vir[k + 1];
      byError[order[i]] = packed([0, 1, 2].map(function (c) { return Math.round(a[c] + (b[c] - a[c]) * f); }));
    }
    this.byLabel = byLabel; this.byError = byError;
    this.legend();
  };

  Explorer.prototype.legend = function () {
    var self = this, d = this.d, box = this.legendBox;
    box.textContent = "";
    if (this.colourBy === "error") {
      box.appendChild(el("span", "aekit-legend-title", "lowest " + d.errorName));
      box.appendChild(el("span", "aekit-ramp"));
      box.appendChild(el("span", "aekit-legend-title", "highest (colour by rank)"));
      return;
    }
    if (!d.labelNames.length) return;
    box.appendChild(el("span", "aekit-legend-title", "labels (click to hide or show):"));
    d.labelNames.forEach(function (name, k) {
      var item = el("button", "aekit-legend-item" + (self.hidden[k] ? " aekit-off" : ""));
      item.type = "button";
      var sw = el("span", "aekit-swatch"); sw.style.background = PALETTE[k % PALETTE.length];
      item.appendChild(sw); item.appendChild(document.createTextNode(name));
      item.addEventListener("click", function () { self.hidden[k] ^= 1; self.legend(); self.draw(); });
      box.appendChild(item);
    });
  };

  // Uniform grid over the data bounds: cell -> the points in it (counting sort), for hover look-ups.
  Explorer.prototype.buildGrid = function () {
    var n = this.n, x = this.x, y = this.y, i;
    var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (i = 0; i < n; i++) {
      if (x[i] < x0) x0 = x[i]; if (x[i] > x1) x1 = x[i];
      if (y[i] < y0) y0 = y[i]; if (y[i] > y1) y1 = y[i];
    }
    if (!(x1 > x0)) { x0 -= 1; x1 += 1; }
    if (!(y1 > y0)) { y0 -= 1; y1 += 1; }
    var g = Math.max(8, Math.min(512, Math.ceil(Math.sqrt(n / 2))));
    var cell = new Int32Array(n), start = new Int32Array(g * g + 1), items = new Int32Array(n);
    for (i = 0; i < n; i++) { cell[i] = this.cellOf(x[i], x0, x1, g) * g + this.cellOf(y[i], y0, y1, g); start[cell[i] + 1]++; }
    for (i = 0; i < g * g; i++) start[i + 1] += start[i];
    var fill = start.slice(0, g * g);
    for (i = 0; i < n; i++) items[fill[cell[i]]++] = i;
    this.bounds = { x0: x0, x1: x1, y0: y0, y1: y1 }; this.g = g; this.start = start; this.items = items;
  };
  Explorer.prototype.cellOf = function (v, lo, hi, g) { return Math.max(0, Math.min(g - 1, Math.floor((v - lo) / (hi - lo) * g))); };

  Explorer.prototype.nearest = function (mx, my) {
    var p = this.toData(mx, my), b = this.bounds, g = this.g, v = this.view;
    var rx = HOVER_PX / v.sx, ry = HOVER_PX / v.sy;
    var cx0 = this.cellOf(p.x - rx, b.x0, b.x1, g), cx1 = this.cellOf(p.x + rx, b.x0, b.x1, g);
    var cy0 = this.cellOf(p.y - ry, b.y0, b.y1, g), cy1 = this.cellOf(p.y + ry, b.y0, b.y1, g);
    var best = -1, bestD = HOVER_PX * HOVER_PX;
    for (var a = cx0; a <= cx1; a++) for (var c = cy0; c <= cy1; c++) {
      var k = a * g + c;
      for (var j = this.start[k]; j < this.start[k + 1]; j++) {
        var i = this.items[j];
        if (this.colourBy === "label" && this.hidden[this.label[i]]) continue;
        var dx = (this.x[i] - p.x) * v.sx, dy = (this.y[i] - p.y) * v.sy, dd = dx * dx + dy * dy;
        if (dd <= bestD) { bestD = dd; best = i; }
      }
    }
    return best;
  };

  Explorer.prototype.resize = function () {
    var w = Math.max(320, this.canvas.clientWidth || 640), h = Math.max(240, this.canvas.clientHeight || 480);
    this.dpr = window.devicePixelRatio || 1;
    this.W = w; this.H = h;
    this.canvas.width = Math.round(w * this.dpr); this.canvas.height = Math.round(h * this.dpr);
    this.image = this.ctx.createImageData(this.canvas.width, this.canvas.height);
    this.pw = w - MARGIN.left - MARGIN.right; this.ph = h - MARGIN.top - MARGIN.bottom;
  };

  Explorer.prototype.reset = function () {
    var b = this.bounds;
    this.view = { cx: (b.x0 + b.x1) / 2, cy: (b.y0 + b.y1) / 2, sx: this.pw / (b.x1 - b.x0) / 1.06, sy: this.ph / (b.y1 - b.y0) / 1.06 };
    this.draw();
  };

  Explorer.prototype.toScreen = function (x, y) {
    var v = this.view;
    return { x: MARGIN.left + this.pw / 2 + (x - v.cx) * v.sx, y: MARGIN.top + this.ph / 2 - (y - v.cy) * v.sy };
  };
  Explorer.prototype.toData = function (mx, my) {
    var v = this.view;
    return { x: v.cx + (mx - MARGIN.left - this.pw / 2) / v.sx, y: v.cy - (my - MARGIN.top - this.ph / 2) / v.sy };
  };

  Explorer.prototype.draw = function () {
    var self = this;
    if (this.pending) return;
    this.pending = true;
    window.requestAnimationFrame(function () { self.pending = false; self.render(); });
  };

  Explorer.prototype.render = function () {
    var W = this.canvas.width, H = this.canvas.height, dpr = this.dpr, v = this.view;
    var buf = new Uint32Array(this.image.data.buffer), col = this.colourBy === "label" ? this.byLabel : this.byError;
    buf.fill(0xffffffff);
    var s = Math.max(2, Math.round(3 * dpr)), half = s >> 1;
    var left = Math.ceil(MARGIN.left * dpr), right = Math.floor((this.W - MARGIN.right) * dpr) - s;
    var top = Math.ceil(MARGIN.top * dpr), bottom = Math.floor((this.H - MARGIN.bottom) * dpr) - s;
    var ox = (MARGIN.left + this.pw / 2 - v.cx * v.sx) * dpr, oy = (MARGIN.top + this.ph / 2 + v.cy * v.sy) * dpr;
    var kx = v.sx * dpr, ky = v.sy * dpr, byLabel = this.colourBy === "label";
    for (var i = 0; i < this.n; i++) {
      if (byLabel && this.hidden[this.label[i]]) continue;
      var px = (ox + this.x[i] * kx - half) | 0, py = (oy - this.y[i] * ky - half) | 0;
      if (px < left || px > right || py < top || py > bottom) continue;
      var c = col[i];
      for (var r = 0; r < s; r++) { var o = (py + r) * W + px; for (var q = 0; q < s; q++) buf[o + q] = c; }
    }
    var ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.putImageData(this.image, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.axes(ctx);
    if (this.hovered >= 0) this.ring(this.x[this.hovered], this.y[this.hovered], "#000");
    if (this.decoded) this.ring(this.decoded.x, this.decoded.y, "#d62728", true);
  };

  Explorer.prototype.ring = function (x, y, colour, cross) {
    var p = this.toScreen(x, y), ctx = this.ctx;
    ctx.strokeStyle = colour; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(p.x, p.y, 6, 0, 2 * Math.PI); ctx.stroke();
    if (cross) { ctx.beginPath(); ctx.moveTo(p.x - 10, p.y); ctx.lineTo(p.x + 10, p.y); ctx.moveTo(p.x, p.y - 10); ctx.lineTo(p.x, p.y + 10); ctx.stroke(); }
  };

  Explorer.prototype.axes = function (ctx) {
    var lo = this.toData(MARGIN.left, this.H - MARGIN.bottom), hi = this.toData(this.W - MARGIN.right, MARGIN.top);
    ctx.strokeStyle = "#888"; ctx.lineWidth = 1; ctx.fillStyle = "#333"; ctx.font = "11px sans-serif";
    ctx.strokeRect(MARGIN.left + 0.5, MARGIN.top + 0.5, this.pw, this.ph);
    var t, p, step = niceStep(hi.x - lo.x);
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (t = Math.ceil(lo.x / step) * step; t <= hi.x; t += step) {
      p = this.toScreen(t, 0).x; ctx.fillText(fmt(Math.abs(t) < step / 1e6 ? 0 : t), p, this.H - MARGIN.bottom + 4);
    }
    step = niceStep(hi.y - lo.y);
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (t = Math.ceil(lo.y / step) * step; t <= hi.y; t += step) {
      p = this.toScreen(0, t).y; ctx.fillText(fmt(Math.abs(t) < step / 1e6 ? 0 : t), MARGIN.left - 4, p);
    }
    ctx.textAlign = "center"; ctx.textBaseline = "bottom";
    ctx.fillText(this.d.axis[0], MARGIN.left + this.pw / 2, this.H - 1);
    ctx.save(); ctx.translate(11, MARGIN.top + this.ph / 2); ctx.rotate(-Math.PI / 2); ctx.textBaseline = "middle";
    ctx.fillText(this.d.axis[1], 0, 0); ctx.restore();
  };

  Explorer.prototype.bindEvents = function () {
    var self = this, c = this.canvas, drag = null;
    function local(e) { var r = c.getBoundingClientRect(); return { x: e.clientX - r.left, y: e.clientY - r.top }; }
    c.addEventListener("wheel", function (e) {
      e.preventDefault();
      var m = local(e), p = self.toData(m.x, m.y), f = Math.exp(-e.deltaY * 0.0015), v = self.view;
      v.sx *= f; v.sy *= f;
      v.cx = p.x - (m.x - MARGIN.left - self.pw / 2) / v.sx; v.cy = p.y + (m.y - MARGIN.top - self.ph / 2) / v.sy;
      self.draw();
    }, { passive: false });
    c.addEventListener("pointerdown", function (e) {
      var m = local(e);
      drag = { x: m.x, y: m.y, cx: self.view.cx, cy: self.view.cy, moved: false };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener("pointermove", function (e) {
      var m = local(e);
      if (drag) {
        if (Math.abs(m.x - drag.x) + Math.abs(m.y - drag.y) > 3) drag.moved = true;
        if (drag.moved) {
          self.view.cx = drag.cx - (m.x - drag.x) / self.view.sx; self.view.cy = drag.cy + (m.y - drag.y) / self.view.sy;
          self.draw(); return;
        }
      }
      self.hover(self.nearest(m.x, m.y));
    });
    c.addEventListener("pointerup", function (e) {
      var m = local(e), was = drag;
      drag = null;
      if (was && !was.moved && self.d.grid && self.nearest(m.x, m.y) < 0) self.decodeAt(self.toData(m.x, m.y));
    });
    c.addEventListener("pointerleave", function () { if (!drag && self.hovered >= 0) { self.hovered = -1; self.draw(); } });
    c.addEventListener("dblclick", function () { self.reset(); });
  };

  Explorer.prototype.hover = function (i) {
    if (i === this.hovered) return;
    this.hovered = i;
    this.draw();
    if (i >= 0) this.showSample(i);
  };

  Explorer.prototype.loadImages = function () {
    var self = this, pending = 0;
    function load(sprite) {
      if (!sprite) return;
      pending++;
      sprite.img = new Image();
      sprite.img.onload = function () { if (--pending === 0) self.ready = true; if (self.hovered >= 0) self.showSample(self.hovered); };
      sprite.img.onerror = function () { console.error("aekit explorer: a thumbnail sheet could not be decoded"); };
      sprite.img.src = sprite.src;
    }
    load(this.d.sprite);
    if (this.d.grid) load(this.d.grid.sprite);
    if (pending === 0) this.ready = true;
  };

  // A thumbnail canvas showing cell k of a sprite sheet, or a note when k has no thumbnail.
  Explorer.prototype.thumb = function (sprite, k) {
    var box = el("div", "aekit-thumbbox");
    if (k >= sprite.count) { box.appendChild(el("p", "aekit-muted", "no thumbnail (the report keeps " + sprite.count + ")")); return box; }
    var size = 112, cv = el("canvas", "aekit-thumb");
    cv.width = size; cv.height = Math.round(size * sprite.h / sprite.w);
    cv.dataset.cell = k;
    var g = cv.getContext("2d");
    g.imageSmoothingEnabled = false;
    if (sprite.img && sprite.img.complete && sprite.img.naturalWidth) {
      g.drawImage(sprite.img, (k % sprite.cols) * sprite.w, Math.floor(k / sprite.cols) * sprite.h, sprite.w, sprite.h, 0, 0, cv.width, cv.height);
      cv.dataset.drawn = "1";
    }
    box.appendChild(cv);
    return box;
  };

  Explorer.prototype.valuesTable = function (table, k, withRecon) {
    if (k >= table.count) return el("p", "aekit-muted", "values not kept (the report keeps " + table.count + " rows)");
    withRecon = withRecon && !!table.recon;
    var t = el("table", "aekit-values"), nf = table.nf, head = el("tr");
    ["feature", "value"].concat(withRecon ? ["reconstruction"] : []).forEach(function (h) { head.appendChild(el("th", null, h)); });
    t.appendChild(head);
    table.v = table.v || typed(table.values, Float32Array);
    if (withRecon) table.r = table.r || typed(table.recon, Float32Array);
    for (var f = 0; f < nf; f++) {
      var row = el("tr");
      row.appendChild(el("td", null, table.names[f])); row.appendChild(el("td", null, fmt(table.v[k * nf + f])));
      if (withRecon) row.appendChild(el("td", null, fmt(table.r[k * nf + f])));
      t.appendChild(row);
    }
    if (table.more) { var r2 = el("tr"); r2.appendChild(el("td", "aekit-muted", "+ " + table.more + " more features")); t.appendChild(r2); }
    return t;
  };

  Explorer.prototype.showSample = function (i) {
    var d = this.d, body = this.sampleBody;
    body.textContent = "";
    body.dataset.index = this.index[i];
    if (d.sprite) body.appendChild(this.thumb(d.sprite, i));
    if (d.table) body.appendChild(this.valuesTable(d.table, i, true));
    var dl = el("dl");
    var rows = [["sample", "#" + this.index[i]], [d.errorName, fmt(this.err[i])], [d.axis[0], fmt(this.x[i])], [d.axis[1], fmt(this.y[i])]];
    if (d.labelNames.length) rows.unshift(["label", d.labelNames[this.label[i]]]);
    rows.forEach(function (r) { dl.appendChild(el("dt", null, r[0])); dl.appendChild(el("dd", null, r[1])); });
    body.appendChild(dl);
  };

  Explorer.prototype.decodeAt = function (p) {
    var g = this.d.grid, body = this.decodeBody;
    var fx = (p.x - g.x0) / (g.x1 - g.x0) * (g.size - 1), fy = (p.y - g.y0) / (g.y1 - g.y0) * (g.size - 1);
    body.textContent = "";
    if (fx < -0.5 || fx > g.size - 0.5 || fy < -0.5 || fy > g.size - 0.5) {
      this.decoded = null; this.draw();
      body.appendChild(el("p", "aekit-muted", "Outside the decoded grid (" + fmt(g.x0) + " to " + fmt(g.x1) + ", " + fmt(g.y0) + " to " + fmt(g.y1) + ")."));
      return;
    }
    var a = Math.round(fx), b = Math.round(fy), k = b * g.size + a; // row-major: y index, then x index
    var gx = g.x0 + a * (g.x1 - g.x0) / (g.size - 1), gy = g.y0 + b * (g.y1 - g.y0) / (g.size - 1);
    this.decoded = { x: gx, y: gy, k: k }; this.draw();
    body.dataset.cell = k;
    if (g.sprite) body.appendChild(this.thumb(g.sprite, k));
    if (g.table) body.appendChild(this.valuesTable(g.table, k, false));
    body.appendChild(el("p", "aekit-muted", "decoded at (" + fmt(gx) + ", " + fmt(gy) + "), the grid point nearest to your click (" + fmt(p.x) + ", " + fmt(p.y) + ")"));
  };

  // Screen position of point i (for tests and scripts): viewport coordinates of its centre.
  Explorer.prototype.clientPoint = function (i) {
    var r = this.canvas.getBoundingClientRect(), p = this.toScreen(this.x[i], this.y[i]);
    return { x: r.left + p.x, y: r.top + p.y };
  };

  function start() {
    window.aekitExplorers = window.aekitExplorers || [];
    var roots = document.querySelectorAll("[data-aekit-explorer]");
    for (var i = 0; i < roots.length; i++) {
      if (roots[i].getAttribute("data-aekit-started")) continue; // the script may be inlined more than once
      roots[i].setAttribute("data-aekit-started", "1");
      var data = JSON.parse(document.getElementById(roots[i].getAttribute("data-aekit-explorer")).textContent);
      window.aekitExplorers.push(new Explorer(roots[i], data));
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
