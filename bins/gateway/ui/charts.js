// finishline dashboard: how fast the event goes. A bar chart of photos ended per minute (from
// the `ts` of each photo's terminal message) and each stage's latency (from the `ts` of the
// messages that begin and end it: queued → started is the queue wait; a stage runs from its
// photo:progress to the next stage's, the last one to photo:completed), median and p95 over
// the last samples. Drawn at most once a second, as inline SVG (no library).
(function () {
  "use strict";
  const fl = window.__finishline;
  const $ = (id) => document.getElementById(id);
  const MINUTES = 30, SAMPLES = 2000;
  const LABELS = { queue: "queue wait", detection: "detection", ocr: "ocr", color: "colour + thumbnail" };
  const stats = { perMinute: new Map(), stages: {}, open: new Map(), scheduled: false };
  fl.stats = stats;

  function sample(stage, ms) {
    if (!(ms >= 0)) return;
    const list = stats.stages[stage] || (stats.stages[stage] = []);
    list.push(ms);
    if (list.length > SAMPLES) list.shift();
  }

  /// Closes the stage a job is in at time `t` and opens `next` (null: the job ended).
  function step(jobId, t, next) {
    const open = stats.open.get(jobId);
    if (open) sample(open.stage, t - open.t);
    if (next) stats.open.set(jobId, { stage: next, t });
    else stats.open.delete(jobId);
  }

  stats.message = function (name, d) {
    if (d.kind === "video" || (d.videoId && !d.photoId)) return;
    const t = Date.parse(d.ts);
    if (Number.isNaN(t) || !d.jobId) return;
    if (name === "job:queued") step(d.jobId, t, "queue");
    else if (name === "job:started") step(d.jobId, t, null);
    else if (name === "photo:progress") step(d.jobId, t, d.stage);
    else if (name === "photo:completed" || name === "photo:failed" || name === "photo:cancelled") {
      step(d.jobId, t, null);
      const minute = Math.floor(t / 60000);
      stats.perMinute.set(minute, (stats.perMinute.get(minute) || 0) + 1);
    } else return;
    schedule();
  };
  stats.reset = function () {
    stats.perMinute.clear();
    stats.open.clear();
    stats.stages = {};
    schedule();
  };

  function schedule() {
    if (stats.scheduled) return;
    stats.scheduled = true;
    setTimeout(() => { stats.scheduled = false; draw(); }, 1000);
  }

  function svg(tag, attrs) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }

  function drawThroughput() {
    const minutes = [...stats.perMinute.keys()];
    const chart = $("throughput");
    chart.replaceChildren();
    if (!minutes.length) return;
    const last = Math.max(...minutes);
    const first = Math.max(Math.min(...minutes), last - MINUTES + 1);
    const bars = [];
    for (let m = first; m <= last; m++) bars.push([m, stats.perMinute.get(m) || 0]);
    const peak = Math.max(1, ...bars.map((b) => b[1]));
    const W = 360, H = 110, slot = W / Math.max(bars.length, 10);
    const root = svg("svg", { viewBox: "0 0 " + W + " " + (H + 18), role: "img", "aria-label": "photos per minute" });
    bars.forEach(([m, n], i) => {
      const h = Math.round((H * n) / peak);
      const rect = svg("rect", { x: (i * slot + 1).toFixed(1), y: H - h, width: Math.max(1, slot - 2).toFixed(1), height: h, rx: 2 });
      rect.appendChild(svg("title", {})).textContent = new Date(m * 60000).toISOString().slice(11, 16) + " UTC: " + n + " photos";
      root.appendChild(rect);
    });
    const label = svg("text", { x: 0, y: H + 14 });
    label.textContent = "peak " + peak + "/min · last " + bars[bars.length - 1][1] + "/min";
    root.appendChild(label);
    chart.appendChild(root);
  }

  function quantile(sorted, q) {
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }

  function drawLatency() {
    const rows = [];
    for (const stage of ["queue", "detection", "ocr", "color"]) {
      const list = stats.stages[stage];
      if (!list || !list.length) continue;
      const sorted = [...list].sort((a, b) => a - b);
      const tr = document.createElement("tr");
      tr.dataset.stage = stage;
      for (const v of [LABELS[stage], sorted.length, quantile(sorted, 0.5) + " ms", quantile(sorted, 0.95) + " ms"]) {
        const td = document.createElement("td");
        td.textContent = String(v);
        tr.appendChild(td);
      }
      rows.push(tr);
    }
    $("latency").replaceChildren(...rows);
  }

  function draw() {
    drawThroughput();
    drawLatency();
  }
  // Exposed so a test can draw now instead of waiting for the next second.
  stats.draw = draw;
})();
