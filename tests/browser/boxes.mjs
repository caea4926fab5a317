// Where the dashboard drew each bib box, against where the bib is on screen. For every card
// matched by `selector` whose thumbnail has loaded and whose photo is in `truths`
// ({ photoId: { number, box: {x,y,w,h}, width, height } }, the photo's own pixels), the
// bib's centre on screen is computed from the <img> alone (its layout box, its natural size,
// object-fit: contain) and compared with the centre of the drawn box of that number.
// Returns [{ id, dx, dy, bibW, bibH }] in CSS px (dx > 0: the box is right of the bib), or
// { id, missing: true } when the card has no box of that number.
export async function boxOffsets(page, selector, truths) {
  return page.evaluate(({ selector, truths }) => {
    const out = [];
    for (const card of document.querySelectorAll(selector)) {
      const id = card.dataset.photo;
      const truth = truths[id];
      const img = card.querySelector(".thumb img");
      if (!truth || !img || !img.complete || !img.naturalWidth) continue;
      const box = [...card.querySelectorAll(".box")].find((b) => b.dataset.bib === String(truth.number));
      if (!box) {
        out.push({ id, missing: true });
        continue;
      }
      const r = img.getBoundingClientRect();
      const s = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight);
      const x0 = r.left + (r.width - img.naturalWidth * s) / 2;
      const y0 = r.top + (r.height - img.naturalHeight * s) / 2;
      const k = (img.naturalWidth / truth.width) * s; // CSS px per photo pixel
      const b = box.getBoundingClientRect();
      out.push({
        id,
        dx: b.left + b.width / 2 - (x0 + (truth.box.x + truth.box.w / 2) * k),
        dy: b.top + b.height / 2 - (y0 + (truth.box.y + truth.box.h / 2) * k),
        bibW: truth.box.w * k,
        bibH: truth.box.h * k,
      });
    }
    return out;
  }, { selector, truths });
}

/// The largest |dx| and |dy| of a list of offsets, rounded to 0.1 px.
export function worst(offsets) {
  const max = (key) => Math.round(10 * Math.max(0, ...offsets.filter((o) => !o.missing).map((o) => Math.abs(o[key])))) / 10;
  return { dx: max("dx"), dy: max("dy"), cards: offsets.length };
}
