// finishline dashboard: watches one event over Socket.IO (namespace /progress) with the
// official client. It subscribes with `since` (0 at first, so the event's history fills the
// page) and resubscribes with the last seq it saw after every reconnect, so a gateway restart
// leaves no gap; messages at or below that seq are ignored. grid.js draws the photos,
// videos.js the videos' timelines, charts.js the throughput and latency, search.js the bib
// search. When the history no longer reaches back far enough (`recovered: false`), the grid
// is filled from the event's photo listing (GET /v1/events/{eventId}/photos) instead.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const state = {
    eventId: null, socket: null, lastSeq: 0, seqs: [], photos: new Map(), videos: new Map(),
    counts: null, token: null,
  };
  // A new element with an optional class and text; grid.js, videos.js and search.js use it.
  function el(tag, cls, value) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (value !== undefined) node.textContent = value;
    return node;
  }
  // Exposed for tests and debugging (never holds the token), and el for the other scripts.
  window.__finishline = { state, el, get socket() { return state.socket; } };

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

  /// A photo changed: the grid (grid.js) redraws what is on screen at the next frame.
  function renderPhoto() {
    window.__finishline.grid.changed();
  }

  /// A video changed: videos.js redraws its line.
  function renderVideo(v) {
    window.__finishline.videos.render(v);
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
    "photo:completed": (d) => { const p = photoCard(d.photoId); Object.assign(p, { state: "succeeded", plateNumber: d.plateNumber, confidence: d.confidence, colors: d.colors, plates: d.plates, jobId: d.jobId, thumbnail: d.thumbnail, imageSize: d.imageSize }); renderPhoto(p); },
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

  const TERMINAL = ["succeeded", "failed", "cancelled"];

  /// One photo of the event's listing: its job's last message, applied as if just received,
  /// unless a live message has already told this page as much (a photo it saw end keeps
  /// that end; one it saw start is only moved on by an end).
  function applyListed(photo) {
    const known = state.photos.get(photo.photoId);
    if (known && (TERMINAL.includes(known.state) || !TERMINAL.includes(photo.state))) return;
    const last = photo.last;
    if (last && last.data && /^(photo|job):/.test(last.type) && handlers[last.type]) {
      handlers[last.type](Object.assign({ kind: "photo" }, last.data, { photoId: photo.photoId }));
    } else {
      photoCard(photo.photoId);
      renderPhoto();
    }
  }

  /// Fills the grid from GET /v1/events/{eventId}/photos, a page at a time, when the event's
  /// history no longer reaches back to what this page has seen (`recovered: false`): an
  /// event opened late, with more messages than the history keeps, or a long disconnection.
  async function fillFromListing(eventId) {
    const listing = { pages: 0, photos: 0, done: false, error: null };
    window.__finishline.listing = listing;
    const headers = state.token ? { Authorization: "Bearer " + state.token } : {};
    const base = "/v1/events/" + encodeURIComponent(eventId) + "/photos?limit=1000";
    let cursor = null;
    try {
      do {
        const response = await fetch(base + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""), { headers });
        if (!response.ok) throw new Error("HTTP " + response.status);
        const page = await response.json();
        if (state.eventId !== eventId) return; // another event was opened meanwhile
        for (const photo of page.photos) applyListed(photo);
        listing.pages += 1;
        listing.photos += page.photos.length;
        cursor = page.nextCursor;
      } while (cursor);
      listing.done = true;
    } catch (err) {
      listing.error = String(err.message || err);
      setStatus("disconnected", "photo list incomplete: " + listing.error);
    }
  }

  function onMessage(name, data) {
    if (!data || data.eventId !== state.eventId || typeof data.seq !== "number") return;
    if (data.seq <= state.lastSeq) return; // already applied (replay overlap)
    state.lastSeq = data.seq;
    state.seqs.push(data.seq);
    if (name !== "event:completed") $("banner").hidden = true;
    handlers[name](data);
    window.__finishline.stats.message(name, data);
  }

  function subscribe() {
    // `since` 0 on the first subscription: the page replays what the event's history holds,
    // so an event opened late still fills its grid (from the photo listing when the history
    // has lost the event's start).
    const payload = { eventId: state.eventId, since: state.lastSeq };
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
      // The history no longer holds every message this page missed: the listing does.
      if (ack.recovered === false) fillFromListing(state.eventId);
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
    $("videos").replaceChildren();
    window.__finishline.grid.reset();
    window.__finishline.stats.reset();
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
  // After grid.js and charts.js have set themselves up (they load after this file).
  window.addEventListener("DOMContentLoaded", () => {
    const initial = eventFromPath();
    if (initial) open(initial);
  });
})();
