// finishline dashboard: the event's photo grid. Each card shows the photo's thumbnail
// (GET /v1/jobs/{jobId}/thumbnail) with the bib boxes of photo:completed drawn over it, scaled
// from the photo's `imageSize` to the thumbnail as the browser lays it out (container query
// units of the thumbnail area, so a card of any width, in the grid or in the search results,
// puts the box on the bib), and the bib number and colour names. The grid
// is virtualised: cards are laid out on fixed rows and only the rows near the viewport exist
// in the DOM, so 10,000 photos cost a few dozen elements. Filters: all, failed, no bib,
// cancelled. The search box's result cards (search.js) reuse `card()`.
(function () {
  "use strict";
  const fl = window.__finishline;
  const state = fl.state;
  const $ = (id) => document.getElementById(id);
  const STAGES = ["detection", "ocr", "color"];
  const CARD_W = 200, CARD_H = 232, GAP = 12, OVERSCAN_ROWS = 2;
  const FILTERS = {
    all: () => true,
    failed: (p) => p.state === "failed",
    nobib: (p) => p.state === "succeeded" && !(p.plates && p.plates.length),
    cancelled: (p) => p.state === "cancelled",
  };
  const grid = { filter: "all", list: [], dirty: true, scheduled: false, rendered: 0, firstRenderMs: null };
  const images = new Map(); // thumbnail path → object URL (fetched with the token)
  fl.grid = grid;

  const el = fl.el;

  /// The thumbnail as an <img>: with a token it is fetched with the Authorization header and
  /// shown from an object URL (an <img src> cannot send the header).
  function thumbnailImage(path) {
    const img = el("img");
    img.alt = "";
    img.decoding = "async";
    img.addEventListener("error", () => img.classList.add("missing"));
    if (!state.token) {
      img.src = path;
      return img;
    }
    const known = images.get(path);
    if (known) {
      img.src = known;
      return img;
    }
    fetch(path, { headers: { Authorization: "Bearer " + state.token } })
      .then((r) => (r.ok ? r.blob() : Promise.reject(new Error("HTTP " + r.status))))
      .then((blob) => {
        const url = URL.createObjectURL(blob);
        images.set(path, url);
        img.src = url;
      })
      .catch(() => img.classList.add("missing"));
    return img;
  }

  /// Bib boxes over a thumbnail area (a size container, `.thumb`) where the image is shown
  /// with object-fit: contain, centred. The scale and the offsets are left to the browser in
  /// container units: the image is `min(100cqw / width, 100cqh / height)` px per photo pixel
  /// and centred, so a box is as far from the area's centre as the bib is from the photo's,
  /// whatever width the card is laid out at.
  function boxes(p) {
    const layer = el("div", "boxes");
    const size = p.imageSize;
    if (!size || !size.width || !size.height || !p.plates) return layer;
    const scale = "min(100cqw / " + size.width + ", 100cqh / " + size.height + ")";
    const at = (half, offset) => "calc(" + half + " + " + offset + " * " + scale + ")";
    for (const plate of p.plates) {
      const b = plate.box;
      const box = el("div", "box");
      box.dataset.bib = String(plate.number);
      box.style.left = at("50cqw", b.x - size.width / 2);
      box.style.top = at("50cqh", b.y - size.height / 2);
      box.style.width = "max(2px, " + b.w + " * " + scale + ")";
      box.style.height = "max(2px, " + b.h + " * " + scale + ")";
      box.appendChild(el("span", "", "#" + plate.number));
      layer.appendChild(box);
    }
    return layer;
  }

  function thumb(p) {
    const area = el("div", "thumb" + (p.thumbnail ? "" : " pending"));
    if (p.thumbnail) {
      area.appendChild(thumbnailImage(p.thumbnail));
    } else {
      for (const c of p.colors || []) {
        const s = el("span");
        s.style.background = c.hex;
        s.style.flexGrow = String(Math.max(c.share, 0.02));
        area.appendChild(s);
      }
    }
    area.appendChild(boxes(p));
    return area;
  }

  function colourNames(plate) {
    const names = [];
    if (plate.bibColorName) names.push("bib " + plate.bibColorName);
    if (plate.shirtColorName) names.push("shirt " + plate.shirtColorName);
    return names.join(" · ");
  }

  function swatches(p, body) {
    const row = el("div", "swatches");
    for (const c of p.colors || []) {
      const b = el("b");
      b.style.background = c.hex;
      b.title = c.hex + " " + Math.round(c.share * 100) + "%";
      row.appendChild(b);
    }
    body.appendChild(row);
  }

  function status(p, body) {
    if (p.state === "succeeded") {
      const best = p.plates && p.plates[0];
      if (!best) {
        body.appendChild(el("div", "bib none", "no bib read"));
        swatches(p, body);
        return;
      }
      const more = p.plates.length > 1 ? " +" + (p.plates.length - 1) : "";
      body.appendChild(el("div", "bib", "#" + best.number + " · " + Math.round(best.confidence * 100) + "%" + more));
      body.appendChild(el("div", "colours", colourNames(best)));
      swatches(p, body);
    } else if (p.state === "failed") {
      body.appendChild(el("div", "err", p.error + " (" + p.code + ", " + p.attempts + " attempt" + (p.attempts === 1 ? "" : "s") + ")"));
    } else if (p.state === "cancelled") {
      body.appendChild(el("span", "badge", "cancelled"));
    } else {
      body.appendChild(el("span", "badge", p.stage ? p.stage + " · " + (p.progress || 0) + "%" : "queued"));
    }
  }

  /// One photo's card: thumbnail with boxes, id, stages, bib and colours or the error.
  function card(p) {
    const node = el("article", "card " + p.state);
    node.dataset.photo = p.id;
    node.appendChild(thumb(p));
    const body = el("div", "card-body");
    body.appendChild(el("div", "card-title", p.id));
    const stages = el("div", "stages");
    const reached = p.state === "succeeded" ? 3 : p.stage ? STAGES.indexOf(p.stage) + 1 : 0;
    STAGES.forEach((s, i) => {
      const bar = el("i", i < reached ? "done" : "");
      bar.title = s;
      stages.appendChild(bar);
    });
    body.appendChild(stages);
    status(p, body);
    node.appendChild(body);
    return node;
  }
  grid.card = card;
  grid.thumbnailImage = thumbnailImage;
  grid.colourNames = colourNames;

  function rebuildList() {
    const counts = { all: 0, failed: 0, nobib: 0, cancelled: 0 };
    const list = [];
    const keep = FILTERS[grid.filter];
    for (const p of state.photos.values()) {
      for (const name of Object.keys(FILTERS)) if (FILTERS[name](p)) counts[name] += 1;
      if (keep(p)) list.push(p);
    }
    list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    grid.list = list;
    grid.counts = counts;
    for (const button of document.querySelectorAll("#filters [data-filter]")) {
      button.querySelector("b").textContent = counts[button.dataset.filter];
      button.setAttribute("aria-pressed", String(button.dataset.filter === grid.filter));
    }
  }

  /// Lays out the rows near the viewport; the container's height holds the rest.
  function render() {
    grid.scheduled = false;
    if (grid.dirty) rebuildList();
    grid.dirty = false;
    const box = $("grid");
    const width = box.clientWidth || CARD_W;
    const columns = Math.max(1, Math.floor((width + GAP) / (CARD_W + GAP)));
    const cardWidth = Math.floor((width - GAP * (columns - 1)) / columns);
    const rows = Math.ceil(grid.list.length / columns);
    box.style.height = Math.max(0, rows * (CARD_H + GAP) - GAP) + "px";
    const top = box.getBoundingClientRect().top;
    const first = Math.max(0, Math.floor(-top / (CARD_H + GAP)) - OVERSCAN_ROWS);
    const last = Math.min(rows, Math.ceil((window.innerHeight - top) / (CARD_H + GAP)) + OVERSCAN_ROWS);
    const cards = [];
    for (let row = first; row < last; row++) {
      for (let col = 0; col < columns; col++) {
        const p = grid.list[row * columns + col];
        if (!p) break;
        const node = card(p);
        node.style.transform = "translate(" + col * (cardWidth + GAP) + "px," + row * (CARD_H + GAP) + "px)";
        node.style.width = cardWidth + "px";
        cards.push(node);
      }
    }
    box.replaceChildren(...cards);
    $("grid-empty").hidden = grid.list.length > 0;
    grid.rendered = cards.length;
    if (cards.length && grid.firstRenderMs === null) {
      grid.firstRenderMs = performance.now();
      performance.mark("finishline:first-card");
    }
  }

  function schedule(listChanged) {
    if (listChanged) grid.dirty = true;
    if (grid.scheduled) return;
    grid.scheduled = true;
    requestAnimationFrame(render);
  }
  grid.changed = () => schedule(true);
  grid.reset = () => { images.forEach((url) => URL.revokeObjectURL(url)); images.clear(); schedule(true); };

  for (const button of document.querySelectorAll("#filters [data-filter]")) {
    button.addEventListener("click", () => {
      grid.filter = button.dataset.filter;
      schedule(true);
    });
  }
  window.addEventListener("scroll", () => schedule(false), { passive: true });
  window.addEventListener("resize", () => schedule(false));
})();
