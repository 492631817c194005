// The status page: polls status.json once per interval (one request in
// flight at most, none while the tab is hidden) and draws what it says.
// Every value is set as text, never as markup: conversation keys and log
// lines come from users and platforms.
"use strict";

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function fmtRate(v) { return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2); }
function fmtMS(v) {
  if (v === null || v === undefined) return "–";
  if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + " s";
  if (v >= 1) return v.toFixed(1) + " ms";
  return (v * 1000).toFixed(0) + " µs";
}
function fmtAge(t, now) {
  const s = Math.max(0, Math.round((now - new Date(t)) / 1000));
  if (s < 60) return s + "s ago";
  if (s < 3600) return Math.floor(s / 60) + "m ago";
  if (s < 86400) return Math.floor(s / 3600) + "h ago";
  return Math.floor(s / 86400) + "d ago";
}
function fmtDuration(sec) {
  if (sec < 60) return Math.round(sec) + "s";
  if (sec < 3600) return Math.floor(sec / 60) + "m " + Math.round(sec % 60) + "s";
  return Math.floor(sec / 3600) + "h " + Math.floor((sec % 3600) / 60) + "m";
}
function stateClass(state) { return state === "serving" ? "ok" : state === "starting" ? "warn" : "bad"; }

// drawChart draws the in and out rates of an adapter, oldest left, scaled
// to the highest of either; the label says the scale.
function drawChart(canvas, ins, outs) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 240, h = canvas.clientHeight || 48;
  if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
  canvas.dataset.points = String(ins.length);
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const n = Math.max(ins.length, outs.length, 2);
  const top = Math.max(1, ...ins, ...outs);
  g.strokeStyle = "#e5e7eb"; g.lineWidth = 1;
  g.beginPath(); g.moveTo(0, h - 0.5); g.lineTo(w, h - 0.5); g.stroke();
  const css = getComputedStyle(document.documentElement);
  // In is drawn wide and out narrow on top, so that both show where they
  // are equal, as they are for an echo bot.
  for (const [series, color, width] of [[ins, css.getPropertyValue("--in"), 3.5], [outs, css.getPropertyValue("--out"), 1.5]]) {
    if (series.length === 0) continue;
    g.strokeStyle = color.trim(); g.lineWidth = width;
    g.beginPath();
    series.forEach((v, i) => {
      const x = w - (series.length - 1 - i) * (w / (n - 1));
      const y = h - 2 - (v / top) * (h - 12);
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  }
  g.fillStyle = "#6b7280"; g.font = "10px system-ui, sans-serif"; g.textBaseline = "top";
  g.fillText("max " + fmtRate(top) + "/s · last " + fmtDuration(ins.length * interval / 1000), 2, 1);
}

function renderAdapters(s, now) {
  const body = $("#adapters tbody");
  const rows = new Map([...body.querySelectorAll("tr")].map((r) => [r.dataset.name, r]));
  for (const a of s.adapters || []) {
    let row = rows.get(a.name);
    rows.delete(a.name);
    if (!row) {
      row = el("tr", { class: "adapter", "data-name": a.name });
      for (const c of ["name", "state", "scopes", "in num", "out num", "chart", "note"]) row.append(el("td", { class: c }));
      row.querySelector(".chart").append(el("canvas", { class: "chart" }));
      body.append(row);
    }
    const name = row.querySelector(".name");
    name.replaceChildren(el("strong", {}, a.name), el("br"),
      el("span", { class: "muted" }, a.kind + (a.protocols && a.protocols.length && a.protocols.join() !== a.kind ? " (" + a.protocols.join(", ") + ")" : "")));
    if (a.detail) name.append(el("div", { class: "muted" }, a.detail));
    const state = row.querySelector(".state");
    state.replaceChildren(el("span", { class: "badge " + stateClass(a.state) }, a.state),
      ...(a.reasons || []).map((r) => el("div", { class: "muted note" }, r)));
    const scopes = row.querySelector(".scopes");
    const pct = a.max_scopes > 0 ? a.fill * 100 : 0;
    scopes.replaceChildren(el("span", { class: "count" }, String(a.scopes)),
      a.max_scopes > 0 ? el("span", { class: "muted" }, " / " + a.max_scopes.toLocaleString("en") + " (" + pct.toFixed(pct < 1 && pct > 0 ? 2 : 0) + "%)") : el("span", { class: "muted" }, " (no bound)"));
    if (a.max_scopes > 0) {
      const bar = el("div", { class: "bar" + (pct >= 90 ? " bad" : pct >= 70 ? " warn" : "") }, el("div"));
      bar.firstChild.style.width = Math.min(100, Math.max(pct, a.scopes > 0 ? 1 : 0)) + "%";
      scopes.append(bar);
    }
    row.querySelector(".in").textContent = fmtRate(a.in_per_s);
    row.querySelector(".in").title = a.events_in + " since start";
    row.querySelector(".out").textContent = fmtRate(a.out_per_s);
    row.querySelector(".out").title = a.events_out + " since start";
    drawChart(row.querySelector("canvas"), a.in_history || [], a.out_history || []);
    const note = row.querySelector(".note");
    note.replaceChildren();
    const same = a.said && a.last_problem && a.said.time === a.last_problem.time && a.said.message === a.last_problem.message;
    if (a.said && !same) note.append(el("div", { class: "said" }, a.said.message, el("span", { class: "muted" }, " · " + fmtAge(a.said.time, now))));
    if (a.last_problem) {
      const p = a.last_problem;
      note.append(el("div", { class: "problem" }, p.level + ": " + p.message + (p.err ? ": " + p.err : ""),
        el("span", { class: "muted" }, " · " + fmtAge(p.time, now) + " (" + a.problems + " in all)")));
    }
    if (!a.said && !a.last_problem) note.append(el("span", { class: "muted" }, "nothing logged"));
  }
  for (const r of rows.values()) r.remove();
}

function renderLatency(s) {
  const body = $("#latency tbody");
  body.replaceChildren(...(s.latency || []).map((l) =>
    el("tr", { "data-protocol": l.protocol }, el("td", {}, l.protocol), el("td", { class: "num" }, l.count),
      el("td", { class: "num p50" }, fmtMS(l.p50_ms)), el("td", { class: "num p90" }, fmtMS(l.p90_ms)),
      el("td", { class: "num p99" }, fmtMS(l.p99_ms)), el("td", { class: "num" }, fmtMS(l.mean_ms)))));
  const w = (s.latency || [])[0];
  $("#latency-window").textContent = w ? "over the last " + w.window_s + " s, from histogram buckets" : "";
}

function renderSlow(s) {
  const run = s.slow.running || [];
  $("#slow tbody").replaceChildren(...run.map((r) =>
    el("tr", { class: "slow" }, el("td", {}, r.adapter), el("td", { class: "key" }, r.key), el("td", {}, r.event),
      el("td", { class: "num" }, fmtMS(r.for_ms)))));
  $("#slow-none").hidden = run.length > 0;
  $("#slow-threshold").textContent = s.slow.threshold_ms ? "over " + fmtMS(s.slow.threshold_ms) : "";
}

function dl(target, pairs) {
  target.replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function renderLayer(s) {
  const l = s.layer;
  const errs = Object.entries(l.errors || {}).filter(([, n]) => n > 0).map(([k, n]) => k + " " + n).join(", ") || "none";
  dl($("#layer"), [
    ["backend", l.backend + (l.detail ? " · " + l.detail : "")],
    ["health", el("span", { class: "badge " + (l.ok ? "ok" : "bad") }, l.ok ? "reachable" : "failing")],
    ...(l.error ? [["error", l.error]] : []),
    ["failed operations", errs],
  ]);
}

function renderCluster(s, now) {
  const p = s.process;
  dl($("#cluster"), [
    ["this process", p.host + " · pid " + p.pid],
    ["version", p.version + (p.revision ? " · " + p.revision.slice(0, 12) : "") + " · " + p.go],
    ["up", fmtDuration((now - new Date(p.started)) / 1000)],
    ["owns", s.cluster.owns],
    ["note", el("span", { class: "note" }, s.cluster.note)],
  ]);
}

function renderChecks(s) {
  const list = s.checks || [];
  $("#checks").replaceChildren(...(list.length ? list : [{ name: "no checks", ok: true }]).map((c) =>
    el("li", { class: c.ok ? "ok" : "bad" }, c.name + (c.ok ? ": ok" : ": " + c.error))));
}

function renderProblems(s) {
  const list = s.problems || [];
  $("#problems").replaceChildren(...(list.length ? list.map((p) =>
    el("li", {}, new Date(p.time).toLocaleTimeString("en-GB") + " " + p.level + " " + (p.adapter ? "[" + p.adapter + "] " : "") + p.message + (p.err ? ": " + p.err : ""))) :
    [el("li", { class: "muted" }, "none")]));
}

function render(s) {
  const now = new Date(s.time);
  const ready = $("#ready");
  ready.textContent = s.ready ? "ready" : "not ready";
  ready.className = "badge " + (s.ready ? "ok" : "bad");
  $("#process").textContent = s.process.host + " · pid " + s.process.pid + " · " + s.process.version;
  $("#updated").textContent = "updated " + now.toLocaleTimeString("en-GB");
  renderAdapters(s, now);
  renderLatency(s);
  renderSlow(s);
  renderLayer(s);
  renderCluster(s, now);
  renderChecks(s);
  renderProblems(s);
}

let failures = 0, timer = 0, busy = false, interval = 1000;

async function poll() {
  timer = 0;
  if (document.hidden || busy) return; // visibilitychange starts it again
  busy = true;
  try {
    const r = await fetch("status.json", { cache: "no-store", signal: AbortSignal.timeout(5000) });
    if (!r.ok) throw new Error("HTTP " + r.status);
    const s = await r.json();
    interval = s.interval_ms || 1000;
    failures = 0;
    document.body.classList.remove("stale");
    try {
      render(s);
    } catch (e) {
      $("#updated").textContent = "page error: " + e.message;
      console.error(e);
    }
  } catch (e) {
    failures++;
    document.body.classList.add("stale");
    $("#updated").textContent = "no answer (" + e.message + "); retrying";
  } finally {
    busy = false;
  }
  // Back off while the server does not answer: at most one request per
  // 10 s.
  timer = setTimeout(poll, Math.min(10000, interval * (1 << Math.min(failures, 4))));
}

document.addEventListener("visibilitychange", () => { if (!document.hidden && !timer && !busy) poll(); });
poll();
