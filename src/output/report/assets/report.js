// btcsniff report: draws the page from the JSON in #report-data. Every
// text from the capture goes in with textContent, never as markup.
(function () {
  "use strict";
  const R = JSON.parse(document.getElementById("report-data").textContent);
  const COLORS = {
    handshake: "#4e79a7", inventory: "#f28e2b", transactions: "#59a14f",
    blocks: "#9c5fb5", addresses: "#76b7b2", filters: "#edc948", other: "#a0a0a0",
  };
  const famColor = (i) => COLORS[R.families[i]] || "#888";
  const SVG = "http://www.w3.org/2000/svg";

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  const pad = (n, w) => String(n).padStart(w, "0");
  // UTC date and time of microseconds since the epoch.
  function utc(us, withDate) {
    const d = new Date(Math.floor(us / 1000));
    const micro = pad(((us % 1e6) + 1e6) % 1e6, 6);
    const t = pad(d.getUTCHours(), 2) + ":" + pad(d.getUTCMinutes(), 2) + ":" + pad(d.getUTCSeconds(), 2) + "." + micro;
    if (!withDate) return t;
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1, 2) + "-" + pad(d.getUTCDate(), 2) + " " + t + " UTC";
  }
  function duration(us) {
    const s = us / 1e6;
    if (s < 1) return (us / 1000).toFixed(1) + " ms";
    if (s < 120) return s.toFixed(2) + " s";
    if (s < 7200) return (s / 60).toFixed(1) + " min";
    if (s < 172800) return (s / 3600).toFixed(1) + " h";
    return (s / 86400).toFixed(1) + " days";
  }
  function bytes(n) {
    if (n < 1024) return n + " B";
    const u = ["KiB", "MiB", "GiB", "TiB"];
    let i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
    return n.toFixed(1) + " " + u[i];
  }
  const num = (n) => Number(n).toLocaleString("en-US");

  // ---- Overview ----
  function overview() {
    const o = R.overview;
    const dl = document.getElementById("overview-list");
    const row = (k, v) => { dl.appendChild(el("dt", {}, k)); const dd = el("dd", {}, v); dl.appendChild(dd); return dd; };
    if (o.first_us !== null) {
      row("Capture span", utc(o.first_us, true) + " to " + utc(o.last_us, true) + " (" + duration(o.last_us - o.first_us) + ")");
    } else {
      row("Capture span", "no message or finding");
    }
    row("Packets", num(o.packets));
    let flows = num(o.flows_v1) + " v1, " + num(o.flows_v2_decrypted) + " v2 decrypted, " +
      num(o.flows_v2_encrypted) + " v2 encrypted, " + num(o.flows_other) + " other";
    if (o.core_peers) flows += "; " + num(o.core_peers) + " peers of a Core message capture";
    row("Flows", flows);
    row("Messages", num(o.messages) + " (" + bytes(o.message_bytes) + " of payload)");
    row("Checksums invalid", num(o.checksum_invalid));
    row("Decode errors", num(o.decode_errors));
    row("Gaps", num(o.gaps) + " (" + bytes(o.gap_bytes) + " never captured)");
    row("Findings", o.findings.length ? o.findings.map((f) => f[0] + " " + num(f[1])).join(", ") : "none");
    row("Networks", o.networks.length ? o.networks.join(", ") : "none seen");
    row("Command", "").appendChild(el("code", {}, R.command));
    document.getElementById("subtitle").textContent = o.first_us !== null ? utc(o.first_us, true) + ", " + duration(o.last_us - o.first_us) + ", " + num(o.messages) + " messages" : "";
    document.getElementById("version").textContent = R.version;
  }

  // ---- Message rate (uPlot, stacked by family) ----
  let rateChart = null;
  const timelineRedraws = [];
  function rate() {
    const r = R.rate;
    const box = document.getElementById("rate-chart");
    const n = r.bytes.length;
    document.getElementById("rate-note").textContent = n
      ? "Messages per second, in buckets of " + duration(r.width_us) + " (at most " + num(R.limits.max_buckets) + " buckets), stacked by command family."
      : "No messages.";
    if (!n) return;
    const xs = new Array(n);
    for (let i = 0; i < n; i++) xs[i] = (r.start_us + i * r.width_us) / 1e6;
    const perSec = 1e6 / r.width_us;
    // Stacked: series k is the sum of families k..end, drawn widest first.
    const fams = R.families.length;
    const stacked = [];
    let acc = new Array(n).fill(0);
    for (let f = fams - 1; f >= 0; f--) {
      acc = acc.map((v, i) => v + r.messages[f][i] * perSec);
      stacked[f] = acc;
    }
    const series = [{ label: "time (UTC)", value: (u, v) => v == null ? "-" : utc(Math.round(v * 1e6), true) }];
    const data = [xs];
    for (let f = 0; f < fams; f++) {
      const c = famColor(f);
      series.push({
        label: R.families[f], stroke: c, fill: c + "cc", width: 1, points: { show: false },
        value: (u, v, si, i) => i == null ? "-" : (r.messages[f][i] * perSec).toFixed(2) + "/s",
      });
      data.push(stacked[f]);
    }
    const width = Math.max(600, box.clientWidth || 1000);
    rateChart = new uPlot({
      width: width, height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
      scales: { x: { time: true } },
      axes: [{
        label: "UTC, " + utc(r.start_us, true).slice(0, 10),
        // Times of day in UTC, as precise as the tick spacing needs.
        values: (u, splits, ai, space, incr) => splits.map((v) => {
          const s = utc(Math.round(v * 1e6), false);
          return incr >= 60 ? s.slice(0, 5) : incr >= 1 ? s.slice(0, 8) : s.slice(0, 12);
        }),
      }, { label: "messages/s", size: 60 }],
      series: series,
      cursor: { drag: { x: true, y: false } },
      hooks: { setScale: [(u, key) => { if (key === "x") timelineRedraws.forEach((f) => f(u.scales.x.min, u.scales.x.max)); }] },
    }, data, box);
  }

  // ---- Flow timeline (SVG lanes) ----
  const LABEL_W = 330, LANE_H = 34, AXIS_H = 22;
  function timeline() {
    const box = document.getElementById("timeline-chart");
    const legend = document.getElementById("legend");
    R.families.forEach((f, i) => {
      const item = el("span", { class: "item" });
      item.appendChild(el("span", { class: "chip", style: "background:" + famColor(i) }));
      item.appendChild(document.createTextNode(f));
      legend.appendChild(item);
    });
    const item = el("span", { class: "item" });
    item.appendChild(el("span", { class: "chip", style: "background:#d62728" }));
    item.appendChild(document.createTextNode("finding (gap, truncation, ...)"));
    legend.appendChild(item);
    let note = "One lane per flow: upper half what the client (or the capturing node) sent, lower half the other side; block transfers as full bars. " +
      "Each message is one mark up to " + R.limits.max_marks_per_lane + " marks per lane; beyond, messages are grouped by time bucket, family and direction (the tooltip says how many).";
    if (R.lanes_not_drawn) note += " " + num(R.lanes_not_drawn) + " flows beyond the first " + R.limits.max_lanes + " are not drawn (they are counted everywhere else).";
    document.getElementById("timeline-note").textContent = note;
    if (!R.lanes.length) return;
    const W = Math.max(700, box.clientWidth || 1000);
    const H = AXIS_H + R.lanes.length * LANE_H;
    const root = svg("svg", { width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img" });
    const defs = svg("defs", {});
    const clip = svg("clipPath", { id: "plot-clip" });
    clip.appendChild(svg("rect", { x: LABEL_W, y: 0, width: W - LABEL_W, height: H }));
    defs.appendChild(clip);
    root.appendChild(defs);
    const axis = svg("g", { class: "axis" });
    root.appendChild(axis);
    const plot = svg("g", { "clip-path": "url(#plot-clip)" });
    const marks = []; // [element, start (us, absolute), duration, minimum width]
    R.lanes.forEach((lane, li) => {
      const y = AXIS_H + li * LANE_H;
      const g = svg("g", { id: "lane-" + lane.flow, class: "lane" });
      g.appendChild(svg("rect", { class: "lane-bg", x: 0, y: y + 1, width: W, height: LANE_H - 2 }));
      const label = svg("text", { x: 4, y: y + 14 });
      label.textContent = "#" + lane.flow + " " + lane.sides[0].address + " \u2192 " + lane.sides[1].address + " " + lane.transport + (lane.decryption ? " (" + lane.decryption + ")" : "");
      const sub = svg("text", { x: 4, y: y + 28, class: "sub" });
      const uas = lane.sides.map((s) => s.user_agent || "?");
      sub.textContent = uas[0] + " \u2194 " + uas[1] + ", " + num(lane.messages) + " msgs";
      const labelClip = svg("svg", { x: 0, y: y, width: LABEL_W - 6, height: LANE_H });
      label.setAttribute("y", 14); sub.setAttribute("y", 28);
      labelClip.appendChild(label); labelClip.appendChild(sub);
      g.appendChild(labelClip);
      root.appendChild(g);
      lane.marks.forEach((m, mi) => {
        const block = m[8] === 1;
        const h = block ? 14 : 8;
        const top = y + (m[3] === 0 ? 2 : LANE_H / 2) + (block ? 0 : 3);
        const r = svg("rect", { class: "mark", y: top, height: h, fill: famColor(m[2]), "data-lane": li, "data-mark": mi, "data-n": m[6] });
        if (block) r.setAttribute("stroke", "#3b1f4a");
        plot.appendChild(r);
        marks.push([r, R.t0_us + m[0], m[1], block ? 4 : 2]);
      });
      lane.findings.forEach((f, fi) => {
        const p = svg("path", { class: "finding", "data-lane": li, "data-finding": fi });
        plot.appendChild(p);
        marks.push([p, R.t0_us + f[0], 0, -y]);
      });
    });
    root.appendChild(plot);
    box.appendChild(root);
    const first = R.overview.first_us, last = Math.max(R.overview.last_us, first + 1000);
    const x0 = LABEL_W + 4, x1 = W - 8;
    function draw(minS, maxS) {
      const lo = minS * 1e6, hi = Math.max(maxS * 1e6, lo + 1);
      const k = (x1 - x0) / (hi - lo);
      for (const [e, t, d, minW] of marks) {
        const x = x0 + (t - lo) * k;
        if (minW < 0) {
          const y = -minW;
          e.setAttribute("d", "M" + (x - 4) + " " + (y + 1) + "h8l-4 8z M" + (x - 0.5) + " " + (y + 9) + "h1v" + (LANE_H - 12) + "h-1z");
        } else {
          e.setAttribute("x", x);
          e.setAttribute("width", Math.max(minW, d * k));
        }
      }
      while (axis.firstChild) axis.removeChild(axis.firstChild);
      const steps = [1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 3e7, 6e7, 12e7, 3e8, 6e8, 18e8, 36e8, 108e8, 216e8, 864e8, 6048e8, 24192e8];
      const want = (hi - lo) / 8;
      const step = steps.find((s) => s >= want) || steps[steps.length - 1];
      for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) {
        const x = x0 + (t - lo) * k;
        axis.appendChild(svg("line", { x1: x, x2: x, y1: AXIS_H - 4, y2: H }));
        const label = svg("text", { x: x + 2, y: AXIS_H - 8 });
        const s = utc(t, false);
        label.textContent = step >= 6e7 ? s.slice(0, 5) : step >= 1e6 ? s.slice(0, 8) : s.slice(0, 12);
        axis.appendChild(label);
      }
    }
    draw(first / 1e6, last / 1e6);
    timelineRedraws.push(draw);
    const tip = document.getElementById("tooltip");
    root.addEventListener("mousemove", (ev) => {
      const t = ev.target;
      const li = t.getAttribute && t.getAttribute("data-lane");
      if (li === null || li === undefined) { tip.hidden = true; return; }
      const lane = R.lanes[Number(li)];
      let text;
      if (t.hasAttribute("data-mark")) {
        const m = lane.marks[Number(t.getAttribute("data-mark"))];
        const from = lane.sides[m[3]].address, to = lane.sides[1 - m[3]].address;
        text = utc(R.t0_us + m[0], true) + "\n" + R.command_names[m[4]] + ", " + num(m[5]) + " bytes, " + from + " \u2192 " + to;
        if (m[6] > 1) text += "\n(first of " + num(m[6]) + " " + R.families[m[2]] + " messages, " + bytes(m[7]) + ", over " + duration(m[1]) + ")";
        if (m[9]) text += "\n" + m[9];
      } else {
        const f = lane.findings[Number(t.getAttribute("data-finding"))];
        text = utc(R.t0_us + f[0], true) + "\nfinding: " + f[1];
        if (f[2] >= 0) text += "\n" + values(R.findings[f[2]].values);
      }
      tip.textContent = text;
      tip.hidden = false;
      tip.style.left = Math.min(ev.clientX + 12, window.innerWidth - 380) + "px";
      tip.style.top = (ev.clientY + 14) + "px";
    });
    root.addEventListener("mouseleave", () => { tip.hidden = true; });
  }

  function values(v) {
    return Object.keys(v).filter((k) => k !== "kind").map((k) => k + "=" + (typeof v[k] === "string" ? v[k] : JSON.stringify(v[k]))).join(" ");
  }

  // ---- Tables ----
  // columns: [title, value(row), numeric, render(row, td)?]
  function table(id, columns, rows, initialSort, desc) {
    const t = document.getElementById(id);
    const head = el("tr");
    const body = el("tbody");
    let sortCol = initialSort, sortDesc = !!desc;
    columns.forEach((c, i) => {
      const th = el("th", {}, c[0]);
      th.addEventListener("click", () => { sortDesc = sortCol === i ? !sortDesc : c[2]; sortCol = i; fill(); });
      head.appendChild(th);
    });
    const thead = el("thead"); thead.appendChild(head);
    t.appendChild(thead); t.appendChild(body);
    function fill() {
      const c = columns[sortCol];
      const sorted = rows.slice().sort((a, b) => {
        const x = c[1](a), y = c[1](b);
        const r = x === y ? 0 : (x === null || x === undefined) ? 1 : (y === null || y === undefined) ? -1 : x < y ? -1 : 1;
        return sortDesc ? -r : r;
      });
      Array.from(head.children).forEach((th, i) => { th.className = i === sortCol ? (sortDesc ? "sorted-desc" : "sorted-asc") : ""; });
      while (body.firstChild) body.removeChild(body.firstChild);
      for (const row of sorted) {
        const tr = el("tr");
        columns.forEach((col) => {
          const td = el("td", { class: col[2] ? "num" : "" });
          if (col[3]) col[3](row, td); else { const v = col[1](row); td.textContent = v === null || v === undefined ? "" : col[2] ? num(v) : String(v); }
          tr.appendChild(td);
        });
        body.appendChild(tr);
      }
    }
    fill();
  }
  function flowLink(flow, td) {
    const a = el("a", { href: "#lane-" + flow }, "#" + flow);
    a.addEventListener("click", () => {
      document.querySelectorAll(".lane-target").forEach((e) => e.classList.remove("lane-target"));
      const lane = document.getElementById("lane-" + flow);
      if (lane) lane.classList.add("lane-target");
    });
    td.appendChild(a);
  }

  function peers() {
    const rows = [];
    R.lanes.forEach((lane) => lane.sides.forEach((s, i) => {
      if (!s.messages && !s.user_agent) return;
      const core = lane.transport === "core-capture";
      rows.push({ lane: lane, side: s, role: core ? (i === 0 ? "capturing node" : "peer") : (i === 0 ? "initiator" : "responder") });
    }));
    table("peers-table", [
      ["flow", (r) => r.lane.flow, true, (r, td) => flowLink(r.lane.flow, td)],
      ["address", (r) => r.side.address, false],
      ["direction", (r) => r.role, false],
      ["user agent", (r) => r.side.user_agent, false],
      ["version", (r) => r.side.version, true],
      ["height", (r) => r.side.start_height, true],
      ["services", (r) => r.side.services, false],
      ["transport", (r) => r.lane.transport + (r.lane.decryption ? " (" + r.lane.decryption + ")" : ""), false],
      ["duration", (r) => r.lane.last_us - r.lane.first_us, true, (r, td) => { td.textContent = duration(r.lane.last_us - r.lane.first_us); }],
      ["messages sent", (r) => r.side.messages, true],
      ["bytes sent", (r) => r.side.bytes, true],
      ["ping RTT min / avg", (r) => r.side.rtt_min_us, true, (r, td) => {
        td.textContent = r.side.rtt_count ? duration(r.side.rtt_min_us) + " / " + duration(r.side.rtt_avg_us) + " (" + r.side.rtt_count + ")" : "";
      }],
    ], rows, 0, false);
  }

  function commands() {
    const total = R.commands.reduce((a, c) => a + c.count, 0) || 1;
    const totalBytes = R.commands.reduce((a, c) => a + c.bytes, 0) || 1;
    table("commands-table", [
      ["command", (c) => c.command, false, (c, td) => {
        td.appendChild(el("span", { class: "chip", style: "background:" + chipColor(c.command) }));
        td.appendChild(document.createTextNode(c.command));
      }],
      ["count", (c) => c.count, true],
      ["bytes", (c) => c.bytes, true],
      ["share of messages", (c) => c.count / total, true, (c, td) => { td.textContent = (100 * c.count / total).toFixed(1) + " %"; }],
      ["share of bytes", (c) => c.bytes / totalBytes, true, (c, td) => { td.textContent = (100 * c.bytes / totalBytes).toFixed(1) + " %"; }],
    ], R.commands, 1, true);
  }
  // The family colour of a command, from the marks that carry it.
  const commandFamily = {};
  R.lanes.forEach((l) => l.marks.forEach((m) => { commandFamily[R.command_names[m[4]]] = m[2]; }));
  function chipColor(name) {
    return Object.prototype.hasOwnProperty.call(commandFamily, name) ? famColor(commandFamily[name]) : "#ddd";
  }

  function findings() {
    let note = R.findings.length ? "" : "No findings.";
    if (R.findings_not_listed) note = "The first " + num(R.limits.max_findings_listed) + " findings are listed; " + num(R.findings_not_listed) + " more are counted in the overview.";
    document.getElementById("findings-note").textContent = note;
    if (!R.findings.length) return;
    table("findings-table", [
      ["time (UTC)", (f) => f.t_us, false, (f, td) => { td.textContent = utc(f.t_us, true); }],
      ["flow", (f) => f.flow, true, (f, td) => flowLink(f.flow, td)],
      ["kind", (f) => f.kind, false],
      ["values", (f) => values(f.values), false, (f, td) => { td.className = "wrap mono"; td.textContent = values(f.values); }],
    ], R.findings, 0, false);
  }

  overview();
  rate();
  timeline();
  peers();
  commands();
  findings();
  document.body.setAttribute("data-drawn", "1");
  // Milliseconds from navigation to drawn (the scale target: under 2 s).
  document.body.setAttribute("data-drawn-ms", String(Math.round(performance.now())));
})();
