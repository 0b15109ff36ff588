/**
 * The status page's script (status-page.ts): fetches api/space every REFRESH seconds and draws
 * it with the DOM and inline SVG. Every name and message in the document comes from the space's
 * factories, so none is ever parsed as HTML: text goes in through textContent only.
 */
export const REFRESH_SECONDS = 15;

export const STATUS_PAGE_SCRIPT = `"use strict";
(function () {
  var SVG = "http://www.w3.org/2000/svg";
  var REFRESH = ${REFRESH_SECONDS};
  var PALETTE = ["#1f77b4", "#2ca02c", "#9467bd", "#17becf", "#e377c2", "#8c564b", "#bcbd22", "#7f7f7f", "#d62728", "#ff7f0e"];
  var CODES = {
    "100": ["#78909c", "shut down as requested"],
    "200": ["#2e7d32", "work completed"],
    "300": ["#f9a825", "no more work"],
    "400": ["#8e24aa", "banned or disabled"],
    "500": ["#c62828", "site environment problem"],
    "600": ["#6d4c41", "grid-wide problem"],
    "700": ["#ef6c00", "transient problem"],
    "none": ["#bdbdbd", "no shutdown message"]
  };
  var START_COLOUR = "#37474f";

  function el(name, attrs, text) {
    var e = document.createElement(name);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(name, attrs, text) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs || {}) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function pct(x) { return (Math.round(x * 1000) / 10) + "%"; }
  function clock(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });
  }
  function codeInfo(code) {
    if (CODES[code]) return CODES[code];
    return ["#9e9e9e", "other"];
  }
  function legendItem(parent, colour, label, attrs, line) {
    var item = el("span", attrs || {});
    item.className = "item";
    var sw = el("i");
    if (line) sw.className = "line"; else sw.style.background = colour;
    item.appendChild(sw);
    item.appendChild(document.createTextNode(label));
    parent.appendChild(item);
  }

  function drawCards(doc) {
    var box = clear(document.getElementById("cards"));
    var silent = doc.factories.filter(function (f) { return !f.answered; }).length;
    var running = doc.machinetypes.reduce(function (s, m) { return s + m.running; }, 0);
    var procs = doc.machinetypes.reduce(function (s, m) { return s + m.running_processors; }, 0);
    var backoff = doc.machinetypes.filter(function (m) { return m.backoff_until; }).length;
    [
      [doc.factories.length - silent + " / " + doc.factories.length, "factories answering", silent > 0, "card-factories"],
      [running, "machines running or starting", false, "card-machines"],
      [procs, "processors in use", false, "card-processors"],
      [backoff, "machinetypes in backoff", false, "card-backoff"]
    ].forEach(function (c) {
      var card = el("div", { id: c[3] });
      card.className = c[2] ? "card bad" : "card";
      card.appendChild(el("div", { "class": "n" }, c[0]));
      card.appendChild(el("div", { "class": "l" }, c[1]));
      box.appendChild(card);
    });
  }

  function drawShares(doc) {
    var box = clear(document.getElementById("shares"));
    var types = doc.machinetypes;
    if (types.length === 0) { box.appendChild(el("p", { "class": "note" }, "No machinetypes.")); return; }
    var W = 1180, labelW = 170, trackW = 620, rowH = 40, top = 22;
    var H = top + types.length * rowH + 6;
    var chart = svg("svg", { id: "share-chart", viewBox: "0 0 " + W + " " + H, width: "100%", role: "img",
      "aria-label": "Actual against target share per machinetype" });
    [0, 0.25, 0.5, 0.75, 1].forEach(function (t) {
      var x = labelW + t * trackW;
      chart.appendChild(svg("line", { x1: x, x2: x, y1: top - 4, y2: H - 4, stroke: "#e3e7ee" }));
      chart.appendChild(svg("text", { x: x, y: 12, "text-anchor": "middle", "class": "muted" }, t * 100 + "%"));
    });
    types.forEach(function (m, i) {
      var y = top + i * rowH;
      var colour = PALETTE[i % PALETTE.length];
      var g = svg("g", { "class": "share-row", "data-machinetype": m.name });
      g.appendChild(svg("text", { x: labelW - 10, y: y + 20, "text-anchor": "end", "font-weight": "600" }, m.name));
      g.appendChild(svg("rect", { x: labelW, y: y + 6, width: trackW, height: 20, fill: "#eef1f5", rx: 3 }));
      var bar = svg("rect", { "class": "share-bar", x: labelW, y: y + 6, width: Math.max(0, Math.min(1, m.actual_share)) * trackW,
        height: 20, fill: colour, rx: 3, "data-actual": m.actual_share });
      bar.appendChild(svg("title", {}, m.name + ": " + pct(m.actual_share) + " of the space"));
      g.appendChild(bar);
      var tx = labelW + Math.max(0, Math.min(1, m.target_share)) * trackW;
      var target = svg("line", { "class": "target-line", x1: tx, x2: tx, y1: y + 1, y2: y + 31, stroke: "#1d2433",
        "stroke-width": 3, "data-target": m.target_share });
      target.appendChild(svg("title", {}, m.name + " target: " + pct(m.target_share)));
      g.appendChild(target);
      var text = "actual " + pct(m.actual_share) + " \\u00b7 target " + pct(m.target_share) + " \\u00b7 " + m.running + " running";
      g.appendChild(svg("text", { x: labelW + trackW + 14, y: y + 14 }, text));
      var note = [];
      if (m.backoff_until) note.push("in backoff until " + clock(m.backoff_until));
      if (m.last_outcome) note.push("last: " + m.last_outcome.message + (m.last_outcome.time ? " at " + clock(m.last_outcome.time) : ""));
      var sub = svg("text", { x: labelW + trackW + 14, y: y + 29, "class": m.backoff_until ? "backoff" : "muted",
        fill: m.backoff_until ? "#b26a00" : "#5b6577" }, note.join(" \\u00b7 "));
      if (m.backoff_until) sub.setAttribute("data-backoff-until", m.backoff_until);
      g.appendChild(sub);
      chart.appendChild(g);
    });
    box.appendChild(chart);
    var legend = el("div", { id: "share-legend" });
    legend.className = "legend";
    types.forEach(function (m, i) {
      legendItem(legend, PALETTE[i % PALETTE.length], m.name + " (actual share)", { "data-machinetype": m.name });
    });
    legendItem(legend, "", "target share", { "data-legend": "target" }, true);
    box.appendChild(legend);
    box.appendChild(el("p", { "class": "note" }, "Shares of what the space runs, weighed in " +
      (doc.shares_weighed_in === "hs06" ? "HS06" : "processors") + "; targets are this factory's target_share values."));
  }

  function drawTimeline(doc) {
    var box = clear(document.getElementById("timeline"));
    var t = doc.timeline, n = t.buckets.length;
    var W = 1180, H = 230, left = 44, right = 10, top = 12, bottom = 28;
    var plotW = W - left - right, plotH = H - top - bottom, slot = plotW / n;
    var max = 1;
    t.buckets.forEach(function (b) {
      var ends = 0;
      for (var c in b.outcomes) ends += b.outcomes[c];
      max = Math.max(max, b.starts, ends);
    });
    var chart = svg("svg", { id: "timeline-chart", viewBox: "0 0 " + W + " " + H, width: "100%", role: "img",
      "aria-label": "Machine starts and outcomes by shutdown code" });
    [0, 0.5, 1].forEach(function (f) {
      var y = top + plotH - f * plotH;
      chart.appendChild(svg("line", { x1: left, x2: W - right, y1: y, y2: y, stroke: "#e3e7ee" }));
      chart.appendChild(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", "class": "muted" }, Math.round(f * max * 10) / 10));
    });
    var scale = function (v) { return (v / max) * plotH; };
    t.buckets.forEach(function (b, i) {
      var x = left + i * slot;
      var w = Math.max(1, slot * 0.4);
      if (b.starts > 0) {
        var s = svg("rect", { "class": "starts", x: x + slot * 0.08, y: top + plotH - scale(b.starts), width: w, height: scale(b.starts),
          fill: START_COLOUR, "data-count": b.starts });
        s.appendChild(svg("title", {}, b.starts + " started from " + clock(b.start)));
        chart.appendChild(s);
      }
      var y = top + plotH;
      t.codes.forEach(function (code) {
        var k = b.outcomes[code] || 0;
        if (!k) return;
        var h = scale(k);
        y -= h;
        var r = svg("rect", { "class": "outcome", x: x + slot * 0.52, y: y, width: w, height: h, fill: codeInfo(code)[0],
          "data-code": code, "data-count": k });
        r.appendChild(svg("title", {}, k + " ended with " + code + " (" + codeInfo(code)[1] + ") from " + clock(b.start)));
        chart.appendChild(r);
      });
      if (i % 6 === 0)
        chart.appendChild(svg("text", { x: x, y: H - 8, "class": "muted" }, clock(b.start)));
    });
    chart.appendChild(svg("line", { x1: left, x2: W - right, y1: top + plotH, y2: top + plotH, stroke: "#9aa3b2" }));
    box.appendChild(chart);
    var legend = el("div", { id: "timeline-legend" });
    legend.className = "legend";
    legendItem(legend, START_COLOUR, "started", { "data-legend": "starts" });
    t.codes.forEach(function (code) {
      legendItem(legend, codeInfo(code)[0], (code === "none" ? "" : code + " ") + codeInfo(code)[1], { "data-code": code });
    });
    box.appendChild(legend);
    box.appendChild(el("p", { "class": "note" }, "Machines started (left bar) and ended by shutdown code (right bar), per " +
      Math.round(t.bucket_seconds / 60) + " minutes, " + clock(t.from) + " to " + clock(t.to) + ", as this factory saw them."));
  }

  function row(cells, cls) {
    var tr = el("tr");
    cells.forEach(function (c) {
      var td = el("td", {}, c[0]);
      if (c[1]) td.className = c[1];
      if (c[2]) { td.textContent = ""; td.appendChild(c[2]); }
      tr.appendChild(td);
    });
    if (cls) tr.className = cls;
    return tr;
  }
  function table(id, headers) {
    var t = el("table", { id: id });
    var tr = el("tr");
    headers.forEach(function (h) { var th = el("th", {}, h[0]); if (h[1]) th.className = h[1]; tr.appendChild(th); });
    t.appendChild(el("thead")).appendChild(tr);
    return t;
  }

  function drawFactories(doc) {
    var box = clear(document.getElementById("factories"));
    var t = table("factory-table", [["Factory"], ["Status"], ["Machines", "num"], ["Processors", "num"], ["Heartbeat"], ["Problems"]]);
    var body = t.appendChild(el("tbody"));
    doc.factories.forEach(function (f) {
      var badge = el("span", {}, f.answered ? (f.held ? "held" : f.draining ? "draining" : "answering")
        : f.unreachable ? "NOT ANSWERING (nothing listens)" : "NOT ANSWERING");
      badge.className = "badge " + (f.answered ? (f.held || f.draining || f.problems.length ? "warn" : "ok") : "bad");
      var tr = row([
        [f.name],
        ["", "", badge],
        [f.answered ? f.running_machines + " / " + f.max_machines : "", "num"],
        [f.answered ? f.running_processors + " / " + f.max_processors : "", "num"],
        [clock(f.heartbeat)],
        [f.problems.join("; "), "msg"]
      ], f.answered ? "" : "silent");
      tr.setAttribute("data-factory", f.name);
      tr.setAttribute("data-answered", String(f.answered));
      body.appendChild(tr);
    });
    box.appendChild(t);
  }

  function drawMachines(doc) {
    var box = clear(document.getElementById("machines"));
    var LIMIT = 300;
    var t = table("machine-table", [["Machine"], ["Factory"], ["Machinetype"], ["State"], ["Pr", "num"], ["Started"], ["CPU", "num"], ["Outcome"]]);
    var body = t.appendChild(el("tbody"));
    doc.machines.slice(0, LIMIT).forEach(function (m) {
      var tr = row([
        [m.name], [m.factory], [m.machinetype || ""], [m.state], [m.processors || "", "num"],
        [clock(m.started)], [m.state === "Running" && m.cpu_percentage > 0 ? Math.round(m.cpu_percentage) + "%" : "", "num"],
        [m.last_outcome ? m.last_outcome.message : "", "msg"]
      ]);
      tr.setAttribute("data-machine", m.name);
      body.appendChild(tr);
    });
    box.appendChild(t);
    if (doc.machines.length > LIMIT)
      box.appendChild(el("p", { "class": "note" }, (doc.machines.length - LIMIT) + " more in api/space"));
  }

  function draw(doc) {
    document.getElementById("space").textContent = doc.space;
    document.getElementById("seen-by").textContent = "as seen by " + doc.factory;
    document.title = "Vac space " + doc.space;
    var problem = document.getElementById("problem");
    problem.textContent = doc.poll_problem || "";
    problem.style.display = doc.poll_problem ? "block" : "none";
    drawCards(doc);
    drawShares(doc);
    drawTimeline(doc);
    drawFactories(doc);
    drawMachines(doc);
  }

  function refresh() {
    var status = document.getElementById("refresh");
    fetch("api/space", { cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error("api/space: HTTP " + r.status);
        return r.json();
      })
      .then(function (doc) {
        draw(doc);
        status.className = "";
        status.textContent = "updated " + clock(doc.time) + " \\u00b7 refreshes every " + REFRESH + " s";
        document.body.setAttribute("data-loaded", doc.time);
      })
      .catch(function (e) {
        status.className = "failed";
        status.textContent = "refresh failed: " + e.message + " (retrying)";
      })
      .then(function () { setTimeout(refresh, REFRESH * 1000); });
  }
  refresh();
})();
`;
