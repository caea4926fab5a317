// finishline dashboard: watches one event over Socket.IO (namespace /progress) with the
// official client. It keeps the last seq it saw and resubscribes with `since` after every
// reconnect, so a gateway restart leaves no gap; messages at or below that seq are ignored.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const STAGES = ["detection", "ocr", "color"];
  const state = {
    eventId: null, socket: null, lastSeq: 0, seqs: [], photos: new Map(), videos: new Map(),
    counts: null, token: null,
  };
  // Exposed for tests and debugging (never holds the token).
  window.__finishline = { state, get socket() { return state.socket; } };

  function takeTokenFromUrl() {
    const url = new URL(window.location.href);
    const token = url.searchParams.get("token");
    if (token) {
      url.searchParams.delete("token");
      window.history.replaceState(null, "", url.pathname + url.search + url.hash);
      return token;
    }
    return sessionStorage.getItem("finishline-token");
  }

  function setStatus(kind, text) {
    const el = $("status");
    el.className = "status status-" + kind;
    el.textContent = text;
  }

  function eventFromPath() {
    const m = window.location.pathname.match(/^\/events\/([A-Za-z0-9._:\-]{1,128})\/?$/);
    return m ? decodeURIComponent(m[1]) : null;
  }

  function text(tag, cls, value) {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    if (value !== undefined) el.textContent = value;
    return el;
  }

  function renderCounts() {
    const c = state.counts;
    if (!c) return;
    const total = c.totalPhotos, done = c.processedPhotos;
    $("c-total").textContent = total;
    $("c-processed").textContent = done;
    $("c-succeeded").textContent = c.succeeded;
    $("c-failed").textContent = c.failed;
    $("c-cancelled").textContent = c.cancelled;
    $("c-videos").textContent = c.processedVideos + " / " + c.totalVideos;
    $("bar").style.width = (total ? Math.round((100 * done) / total) : 0) + "%";
    $("bar-text").textContent = done + " / " + total + " processed";
  }

  function photoCard(id) {
    let p = state.photos.get(id);
    if (!p) {
      p = { id, stage: null, state: "queued" };
      state.photos.set(id, p);
    }
    return p;
  }

  function renderPhoto(p) {
    let card = document.querySelector('[data-photo="' + CSS.escape(p.id) + '"]');
    if (!card) {
      card = text("article", "card");
      card.dataset.photo = p.id;
      const after = [...$("grid").children].find((c) => c.dataset.photo > p.id);
      $("grid").insertBefore(card, after || null);
    }
    card.className = "card " + p.state;
    card.replaceChildren();
    const thumb = text("div", "thumb" + (p.colors && p.colors.length ? "" : " pending"));
    thumb.title = "dominant colours of the photo (the image itself stays with the worker)";
    for (const c of p.colors || []) {
      const s = document.createElement("span");
      s.style.background = c.hex;
      s.style.flexGrow = String(Math.max(c.share, 0.02));
      thumb.appendChild(s);
    }
    card.appendChild(thumb);
    const body = text("div", "card-body");
    body.appendChild(text("div", "card-title", p.id));
    const stages = text("div", "stages");
    const reached = p.state === "succeeded" ? 3 : p.stage ? STAGES.indexOf(p.stage) + 1 : 0;
    STAGES.forEach((s, i) => {
      const bar = text("i", i < reached ? "done" : "");
      bar.title = s;
      stages.appendChild(bar);
    });
    body.appendChild(stages);
    if (p.state === "succeeded") {
      if (p.plateNumber === null || p.plateNumber === undefined) {
        body.appendChild(text("div", "bib none", "no bib read"));
      } else {
        body.appendChild(text("div", "bib", "#" + p.plateNumber + " · " + Math.round(p.confidence * 100) + "%"));
      }
      const sw = text("div", "swatches");
      for (const c of p.colors || []) {
        const b = document.createElement("b");
        b.style.background = c.hex;
        b.title = c.hex + " " + Math.round(c.share * 100) + "%";
        sw.appendChild(b);
      }
      body.appendChild(sw);
    } else if (p.state === "failed") {
      body.appendChild(text("div", "err", p.error + " (" + p.code + ", " + p.attempts + " attempt" + (p.attempts === 1 ? "" : "s") + ")"));
    } else if (p.state === "cancelled") {
      body.appendChild(text("span", "badge", "cancelled"));
    } else {
      body.appendChild(text("span", "badge", p.stage ? p.stage + " · " + p.progress + "%" : "queued"));
    }
    card.appendChild(body);
  }

  function renderVideo(v) {
    $("videos-title").hidden = false;
    let el = document.querySelector('[data-video="' + CSS.escape(v.id) + '"]');
    if (!el) {
      el = text("div", "video");
      el.dataset.video = v.id;
      $("videos").appendChild(el);
    }
    el.replaceChildren(text("strong", "", v.id + " "), text("span", "badge", v.state + (v.stage ? " · " + v.stage : "")));
    if (v.plates && v.durationMs) {
      const line = text("div", "timeline");
      for (const plate of v.plates) {
        const span = text("span", "", "#" + plate.number);
        span.style.left = (100 * plate.firstSeenMs) / v.durationMs + "%";
        span.style.width = Math.max(2, (100 * (plate.lastSeenMs - plate.firstSeenMs)) / v.durationMs) + "%";
        line.appendChild(span);
      }
      el.appendChild(line);
    }
  }

  /// A job's lifecycle (job:queued, job:started) on its photo's card or its video's line.
  function lifecycle(d, stateName, detail) {
    if (d.kind === "video") {
      const v = state.videos.get(d.videoId) || { id: d.videoId };
      if (v.state === undefined || v.state === "queued" || v.state === "running") {
        Object.assign(v, { state: stateName, stage: detail });
        state.videos.set(v.id, v);
        renderVideo(v);
      }
      return;
    }
    const p = photoCard(d.photoId);
    if (p.state === "queued" || p.state === "running") {
      Object.assign(p, { state: stateName, stage: detail, progress: 0 });
      renderPhoto(p);
    }
  }

  const handlers = {
    "job:queued": (d) => lifecycle(d, "queued", null),
    "job:started": (d) => lifecycle(d, "running", d.attempt > 1 ? "attempt " + d.attempt : "started"),
    "photo:progress": (d) => { const p = photoCard(d.photoId); if (p.state === "queued" || p.state === "running") { p.state = "running"; p.stage = d.stage; p.progress = d.progress; renderPhoto(p); } },
    "photo:completed": (d) => { const p = photoCard(d.photoId); Object.assign(p, { state: "succeeded", plateNumber: d.plateNumber, confidence: d.confidence, colors: d.colors, plates: d.plates }); renderPhoto(p); },
    "photo:failed": (d) => { const p = photoCard(d.photoId); Object.assign(p, { state: "failed", error: d.error, code: d.code, attempts: d.attempts }); renderPhoto(p); },
    "photo:cancelled": (d) => { const p = photoCard(d.photoId); p.state = "cancelled"; renderPhoto(p); },
    "video:progress": (d) => { const v = state.videos.get(d.videoId) || { id: d.videoId }; Object.assign(v, { state: "running", stage: d.stage }); state.videos.set(v.id, v); renderVideo(v); },
    "video:completed": (d) => { const v = state.videos.get(d.videoId) || { id: d.videoId }; Object.assign(v, { state: "succeeded", stage: null, plates: d.plates, durationMs: d.durationMs }); state.videos.set(v.id, v); renderVideo(v); },
    "video:failed": (d) => { const v = state.videos.get(d.videoId) || { id: d.videoId }; Object.assign(v, { state: "failed: " + d.error }); state.videos.set(v.id, v); renderVideo(v); },
    "video:cancelled": (d) => { const v = state.videos.get(d.videoId) || { id: d.videoId }; v.state = "cancelled"; state.videos.set(v.id, v); renderVideo(v); },
    "event:progress": (d) => { state.counts = d; renderCounts(); },
    "event:completed": (d) => {
      const s = d.summary;
      const b = $("banner");
      b.hidden = false;
      b.textContent = "Completed: " + s.succeeded + " succeeded, " + s.failed + " failed, " + s.cancelled + " cancelled of " + s.total;
    },
  };

  function onMessage(name, data) {
    if (!data || data.eventId !== state.eventId || typeof data.seq !== "number") return;
    if (data.seq <= state.lastSeq) return; // already applied (replay overlap)
    state.lastSeq = data.seq;
    state.seqs.push(data.seq);
    if (name !== "event:completed") $("banner").hidden = true;
    handlers[name](data);
  }

  function subscribe() {
    const payload = { eventId: state.eventId };
    if (state.lastSeq > 0) payload.since = state.lastSeq;
    state.socket.timeout(10000).emit("subscribe:event", payload, (err, ack) => {
      if (err || !ack || !ack.success) {
        setStatus("disconnected", ack && ack.error ? ack.error.code + ": " + ack.error.message : "subscribe failed");
        return;
      }
      if (state.lastSeq === 0 || ack.recovered === false) {
        state.counts = ack.snapshot;
        if (ack.recovered === false) state.lastSeq = ack.snapshot.lastSeq;
        renderCounts();
      }
      setStatus("connected", "connected");
    });
  }

  function connect() {
    if (state.socket) state.socket.disconnect();
    const socket = io(window.location.origin + "/progress", { auth: state.token ? { token: state.token } : {} });
    state.socket = socket;
    for (const name of Object.keys(handlers)) socket.on(name, (data) => onMessage(name, data));
    socket.on("connect", () => { $("token-box").hidden = true; subscribe(); });
    socket.on("disconnect", (reason) => setStatus(reason === "io client disconnect" ? "disconnected" : "reconnecting", reason === "io client disconnect" ? "disconnected" : "reconnecting…"));
    socket.io.on("reconnect_attempt", () => setStatus("reconnecting", "reconnecting…"));
    socket.on("connect_error", (err) => {
      if (String(err.message).startsWith("unauthorized:")) {
        setStatus("disconnected", "token needed");
        $("token-box").hidden = false;
        $("token-error").textContent = state.token ? err.message : "";
      } else {
        setStatus("reconnecting", "reconnecting…");
      }
    });
  }

  function open(eventId) {
    Object.assign(state, { eventId, lastSeq: 0, seqs: [], photos: new Map(), videos: new Map(), counts: null });
    $("grid").replaceChildren();
    $("videos").replaceChildren();
    $("empty").hidden = true;
    $("event").hidden = false;
    $("banner").hidden = true;
    $("event-title").textContent = eventId;
    $("event-input").value = eventId;
    document.title = eventId + " — finishline";
    connect();
  }

  $("picker").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("event-input").value.trim();
    if (!/^[A-Za-z0-9._:\-]{1,128}$/.test(id)) return;
    window.history.pushState(null, "", "/events/" + encodeURIComponent(id));
    open(id);
  });
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.token = $("token-input").value.trim() || null;
    if (state.token) sessionStorage.setItem("finishline-token", state.token);
    $("token-input").value = "";
    if (state.eventId) connect();
  });

  state.token = takeTokenFromUrl();
  const initial = eventFromPath();
  if (initial) open(initial);
})();
