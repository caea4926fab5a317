// The dashboard's photo grid at scale, in headless Chromium (Debian's /usr/bin/chromium, driven
// by playwright-core). Run by the Rust e2e test `browser::the_dashboard_shows_two_thousand_…`,
// which has ended the event's jobs before the page opens (the page replays the event's history):
//   node grid.mjs --gateway URL --event ID --photos N --failed N --no-bib N --bib NUMBER \
//     --bib-photos N --bib-video VIDEO_ID --screenshot PATH
// Measures the time from navigation to the first card on screen and to every photo in the grid,
// and the longest main-thread task (a freeze shows as one long task); checks thumbnails with
// their bib boxes, colour names, the filters, scrolling to the last photo, and the bib search.
// With --truths FILE ({ photoId: { number, box, width, height } }: the boxes the harness
// published are the bibs' own), each box on screen, in the grid and in the search results,
// must be centred on its bib within 0.75 px. The video's timeline marker and its search hit
// must show the thumbnail of its best frame.
// Prints one JSON line { ok, violations, ... } and exits 0 when ok.
import { chromium } from "playwright-core";
import fs from "node:fs";
import { boxOffsets, worst } from "./boxes.mjs";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith("--")) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith("--") ? all[i + 1] : "true"]);
    return acc;
  }, []),
);
const total = Number(args.photos), failed = Number(args.failed), noBib = Number(args["no-bib"]);
const bib = args.bib, bibPhotos = Number(args["bib-photos"]), bibVideo = args["bib-video"];
const violations = [];
const check = (cond, msg) => { if (!cond) violations.push(msg); };
const truths = args.truths ? JSON.parse(fs.readFileSync(args.truths, "utf8")) : null;
const centred = {};
/// Every box within 0.75 px of its bib's centre; a card without its box is a violation.
function checkCentred(where, offsets) {
  check(offsets.length > 0, `${where}: no loaded thumbnail with a known bib to measure`);
  for (const o of offsets) {
    if (o.missing) { check(false, `${where}: card ${o.id} has no box of its bib`); continue; }
    check(Math.abs(o.dx) <= 0.75 && Math.abs(o.dy) <= 0.75, `${where}: the box of card ${o.id} is off its bib by ${o.dx.toFixed(2)}, ${o.dy.toFixed(2)} px`);
  }
  return worst(offsets);
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
let result = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1500 } });
  page.on("pageerror", (err) => violations.push("page error: " + err.message));
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
      .observe({ type: "longtask", buffered: true });
  });
  await page.goto(`${args.gateway}/events/${args.event}`);
  await page.waitForFunction(() => window.__finishline.grid.firstRenderMs !== null, null, { timeout: 30000 });
  await page.waitForFunction((n) => window.__finishline.grid.counts && window.__finishline.grid.counts.all === n && !window.__finishline.grid.dirty, total, { timeout: 60000 });
  const timing = await page.evaluate(() => ({
    firstCardMs: Math.round(window.__finishline.grid.firstRenderMs),
    allShownMs: Math.round(performance.now()),
  }));
  // Images decoded for the cards on screen, and their boxes.
  await page.waitForFunction(() => [...document.querySelectorAll("#grid .thumb img")].slice(0, 8).every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 20000 });
  await page.evaluate(() => window.__finishline.stats.draw());
  const view = await page.evaluate(() => {
    const cards = [...document.querySelectorAll("#grid .card")];
    const g = window.__finishline.grid;
    return {
      counts: g.counts, domCards: cards.length,
      withBoxes: cards.filter((c) => c.querySelector(".box")).length,
      withColours: cards.filter((c) => /bib \w+/.test(c.querySelector(".colours")?.textContent || "")).length,
      boxInside: cards.every((c) => [...c.querySelectorAll(".box")].every((b) => {
        const t = c.querySelector(".thumb").getBoundingClientRect(), r = b.getBoundingClientRect();
        const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
        return cx > t.left && cx < t.right && cy > t.top && cy < t.bottom && r.width >= 2;
      })),
      throughputBars: document.querySelectorAll("#throughput rect").length,
      latencyRows: [...document.querySelectorAll("#latency tr")].map((r) => r.dataset.stage),
      timeline: [...document.querySelectorAll(".videos [data-video] .timeline .mark")].map((m) => m.dataset.bib),
    };
  });
  if (truths) centred.grid = checkCentred("grid", await boxOffsets(page, "#grid .card", truths));
  await page.waitForFunction(() => { const i = document.querySelector(".videos [data-video] .timeline .mark img"); return i && i.complete && i.naturalWidth > 0; }, null, { timeout: 15000 });
  check(view.counts.failed === failed, `failed filter counts ${view.counts.failed}, expected ${failed}`);
  check(view.counts.nobib === noBib, `no-bib filter counts ${view.counts.nobib}, expected ${noBib}`);
  check(view.domCards > 0 && view.domCards < 200, `${view.domCards} cards in the DOM: the grid must be virtualised`);
  check(view.withBoxes > 0, "no bib box drawn on the cards on screen");
  check(view.withColours > 0, "no colour names on the cards on screen");
  check(view.throughputBars > 0, "no throughput bar");
  check(view.latencyRows.includes("queue"), `latency rows: ${JSON.stringify(view.latencyRows)}`);
  check(JSON.stringify(view.timeline) === JSON.stringify([bib]), `video timeline markers: ${JSON.stringify(view.timeline)}`);

  // Scroll to the end: the last photo is rendered, quickly.
  const scrolled = await page.evaluate(async () => {
    const t0 = performance.now();
    window.scrollTo(0, document.body.scrollHeight);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const ids = [...document.querySelectorAll("#grid .card")].map((c) => c.dataset.photo);
    window.scrollTo(0, 0);
    return { ms: Math.round(performance.now() - t0), last: ids.sort().pop() };
  });
  check(scrolled.last === "photo-" + String(total - 1).padStart(5, "0"), `after scrolling to the end the last card is ${scrolled.last}`);

  // Filters: only failed cards, then only cards without a bib.
  for (const [filter, cls, n] of [["failed", "failed", failed], ["nobib", "succeeded", noBib]]) {
    await page.click(`#filters [data-filter=${filter}]`);
    await page.waitForFunction((f) => window.__finishline.grid.filter === f && !window.__finishline.grid.dirty, filter);
    const shown = await page.evaluate(() => [...document.querySelectorAll("#grid .card")].map((c) => ({ cls: c.className, bib: c.querySelector(".bib")?.textContent })));
    check(shown.length === Math.min(n, shown.length) && shown.length > 0 && shown.every((c) => c.cls.includes(cls)), `filter ${filter} shows ${JSON.stringify(shown.slice(0, 3))}`);
    if (filter === "nobib") check(shown.every((c) => c.bib === "no bib read"), "no-bib filter shows a bib");
  }
  await page.click("#filters [data-filter=all]");

  // Search the bib: its photos (first page) and the video.
  const asked = Date.now();
  await page.fill("#bib-input", bib);
  await page.click("#bib-search button[type=submit]");
  await page.waitForFunction(() => document.querySelectorAll("[data-hit-photo]").length > 0, null, { timeout: 15000 });
  const searchMs = Date.now() - asked;
  await page.waitForFunction(() => [...document.querySelectorAll("[data-hit-photo] .thumb img")].slice(0, 5).every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 20000 });
  const firstPage = await page.evaluate(() => document.querySelectorAll("[data-hit-photo]").length);
  // The video ended last, so it is on the last page: "More" until it shows.
  for (let i = 0; i < 10 && await page.evaluate(() => !document.querySelector("[data-hit-video]") && !document.getElementById("bib-more").hidden); i++) {
    const before = await page.evaluate(() => document.querySelectorAll("[data-hit-photo], [data-hit-video]").length);
    await page.click("#bib-more");
    await page.waitForFunction((n) => document.querySelectorAll("[data-hit-photo], [data-hit-video]").length > n, before, { timeout: 15000 });
  }
  const hits = await page.evaluate(() => ({
    photos: [...document.querySelectorAll("[data-hit-photo]")].map((c) => ({ id: c.dataset.hitPhoto, boxes: [...c.querySelectorAll(".box")].map((b) => b.dataset.bib) })),
    videos: [...document.querySelectorAll("[data-hit-video]")].map((v) => v.dataset.hitVideo),
    message: document.getElementById("bib-message").textContent,
  }));
  check(firstPage === Math.min(bibPhotos, 60), `${firstPage} photo hits on the first page, expected ${Math.min(bibPhotos, 60)}`);
  check(hits.photos.length === bibPhotos, `${hits.photos.length} photo hits over every page, expected ${bibPhotos}`);
  check(hits.photos.every((h) => h.boxes.length === 1 && h.boxes[0] === bib), `hit cards without the bib's box: ${JSON.stringify(hits.photos.slice(0, 3))}`);
  check(JSON.stringify(hits.videos) === JSON.stringify([bibVideo]), `video hits ${JSON.stringify(hits.videos)}`);
  await page.waitForFunction(() => { const i = document.querySelector("[data-hit-video] img"); return i && i.complete && i.naturalWidth > 0; }, null, { timeout: 15000 });
  if (truths) {
    await page.waitForFunction(() => [...document.querySelectorAll("[data-hit-photo] .thumb img")].slice(0, 12).every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 20000 });
    centred.search = checkCentred("search", await boxOffsets(page, "[data-hit-photo]", truths));
  }
  check(hits.message.startsWith(`#${bib}: ${bibPhotos} photos, 1 video`), `search message: ${hits.message}`);
  const longest = await page.evaluate(() => Math.round(Math.max(0, ...window.__longTasks)));
  check(longest < 1000, `a main-thread task took ${longest} ms (the page froze)`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: args.screenshot });
  result = { ...timing, centred, longestTaskMs: longest, domCards: view.domCards, scrollMs: scrolled.ms, searchMs, hits: hits.photos.length, screenshot: args.screenshot };
} catch (err) {
  violations.push("error: " + (err && err.message ? err.message : String(err)));
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ok: violations.length === 0, violations, ...result }));
process.exit(violations.length === 0 ? 0 : 1);
