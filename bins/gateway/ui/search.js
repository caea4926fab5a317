// finishline dashboard: find photos and videos by bib through the event's bib index
// (GET /v1/events/{eventId}/bibs?prefix=… and /bibs/{number}). Reads the open event and the
// token from the dashboard (window.__finishline); shows the numbers that start with what is
// typed, and the sightings of a chosen number a page at a time.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const app = () => window.__finishline.state;
  const search = { number: null, cursor: null, busy: false };
  // Exposed for tests and debugging.
  window.__finishline.search = search;

  const text = window.__finishline.el;

  async function getJson(path) {
    const headers = {};
    if (app().token) headers.Authorization = "Bearer " + app().token;
    const response = await fetch(path, { headers });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const message = body && body.error ? body.error.code + ": " + body.error.message : "HTTP " + response.status;
      throw new Error(message);
    }
    return body;
  }

  function base() {
    return "/v1/events/" + encodeURIComponent(app().eventId) + "/bibs";
  }

  function setMessage(message, isError) {
    const el = $("bib-message");
    el.textContent = message || "";
    el.className = isError ? "error-text" : "muted-text";
  }

  function renderNumbers(list) {
    const box = $("bib-numbers");
    box.replaceChildren();
    for (const n of list.numbers) {
      const chip = text("button", "chip", "#" + n.number + " · " + n.photos + " photo" + (n.photos === 1 ? "" : "s") + (n.videos ? " · " + n.videos + " video" + (n.videos === 1 ? "" : "s") : ""));
      chip.type = "button";
      chip.dataset.number = String(n.number);
      chip.addEventListener("click", () => showNumber(String(n.number)));
      box.appendChild(chip);
    }
    if (list.nextCursor) box.appendChild(text("span", "muted-text", "more numbers: type more digits"));
  }

  /// A sighting as a grid card: its thumbnail with the bib's box (scaled with the photo's
  /// size when this page saw the photo complete), number and confidence.
  function sightingCard(photo) {
    const seen = app().photos.get(photo.photoId);
    const p = {
      id: photo.photoId, state: "succeeded", jobId: photo.jobId,
      thumbnail: "/v1/jobs/" + encodeURIComponent(photo.jobId) + "/thumbnail",
      imageSize: seen && seen.imageSize,
      colors: seen && seen.colors,
      plates: [{ number: Number(search.number), confidence: photo.confidence, box: photo.box }],
    };
    const card = window.__finishline.grid.card(p);
    card.classList.add("hit");
    card.dataset.hitPhoto = photo.photoId;
    return card;
  }

  /// A video that shows the number: the thumbnail of its best frame when there is one, and
  /// when the number was on screen.
  function videoLine(video) {
    const line = text("div", "video hit");
    line.dataset.hitVideo = video.videoId;
    const seconds = (ms) => (ms / 1000).toFixed(1) + " s";
    if (video.thumbnail) {
      const img = window.__finishline.grid.thumbnailImage(video.thumbnail);
      img.className = "hit-thumb";
      line.appendChild(img);
    }
    line.append(
      text("strong", "", video.videoId + " "),
      text("span", "badge", "#" + search.number + " from " + seconds(video.firstSeenMs) + " to " + seconds(video.lastSeenMs) + " · " + Math.round(video.confidence * 100) + "%"),
    );
    return line;
  }

  function renderPage(page, append) {
    const photos = $("bib-photos");
    const videos = $("bib-videos");
    if (!append) {
      photos.replaceChildren();
      videos.replaceChildren();
    }
    for (const photo of page.photos) photos.appendChild(sightingCard(photo));
    for (const video of page.videos) videos.appendChild(videoLine(video));
    const c = page.counts;
    setMessage("#" + page.number + ": " + c.photos + " photo" + (c.photos === 1 ? "" : "s") + ", " + c.videos + " video" + (c.videos === 1 ? "" : "s"), false);
    search.cursor = page.nextCursor;
    $("bib-more").hidden = !page.nextCursor;
  }

  async function showNumber(number, append) {
    if (search.busy) return;
    search.busy = true;
    try {
      search.number = number;
      let path = base() + "/" + number + "?limit=60";
      if (append && search.cursor) path += "&cursor=" + encodeURIComponent(search.cursor);
      renderPage(await getJson(path), append);
    } catch (err) {
      setMessage(err.message, true);
    } finally {
      search.busy = false;
    }
  }

  async function run(value) {
    if (!app().eventId) return;
    if (!/^[0-9]{0,18}$/.test(value)) {
      setMessage("a bib number or its first digits", true);
      return;
    }
    $("bib-photos").replaceChildren();
    $("bib-videos").replaceChildren();
    $("bib-more").hidden = true;
    try {
      const list = await getJson(base() + "?limit=50&prefix=" + value);
      renderNumbers(list);
      const exact = value !== "" && list.numbers.some((n) => String(n.number) === value);
      if (exact) {
        await showNumber(value);
      } else {
        setMessage(list.numbers.length ? "pick a number" : "no bib starting with " + value + " yet", false);
      }
    } catch (err) {
      setMessage(err.message, true);
    }
  }

  $("bib-search").addEventListener("submit", (e) => {
    e.preventDefault();
    run($("bib-input").value.trim());
  });
  $("bib-more").addEventListener("click", () => showNumber(search.number, true));
})();
