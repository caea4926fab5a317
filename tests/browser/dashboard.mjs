// The dashboard end to end in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core). Run by the Rust e2e test `browser::…`, which owns the gateway process:
//   node dashboard.mjs --gateway URL --event ID --photos a.png,b.jpg,… --expect-failed N \
//     [--bibs 1234,-,…] --screenshot PATH [--restart]
// With --restart, after the first half of the photos is shown the script prints
// "RESTART <lastSeq>" and waits for a line "CONTINUE" on stdin: meanwhile the harness kills
// the gateway, starts it again on the same port and enqueues the second half. The page must
// then reconnect, resubscribe with `since`, and fill the gap: every seq exactly once.
// With --bibs, each read photo's card must show its thumbnail, the bib's box and the colour
// names, and the script then searches the first bib through the search box and checks the
// photos found. With --truths FILE ({ photoId: { number, box, width, height } }, the generated
// photos' ground truth) each read photo's box must be centred on its bib, in the grid and in
// the search results: within 3 px across and within max(3 px, a quarter of the bib's height)
// up or down on screen (the worker's box is the digits' line, the truth the whole bib).
// With --video ID --video-bibs 12,34 (a video the harness enqueued), the video's line must
// show a timeline marker with its best frame's thumbnail and its colour names for each of those bibs, and the
// search for the first bib must show the video with its thumbnail.
// The result carries the page's first contentful paint and the boxes' worst offsets.
// Prints one JSON line { ok, violations, ... } and exits 0 when ok.
import { chromium } from "playwright-core";
import fs from "node:fs";
import readline from "node:readline";
import { boxOffsets, worst } from "./boxes.mjs";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith("--")) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith("--") ? all[i + 1] : "true"]);
    return acc;
  }, []),
);
const gateway = args.gateway, eventId = args.event;
const photos = (args.photos || "").split(",").filter(Boolean);
const expectFailed = Number(args["expect-failed"] || 0);
// The bib number each photo carries, in --photos order ("-" for none): the page must show it.
const bibs = (args.bibs || "").split(",").filter(Boolean);
const restart = args.restart === "true";
const truths = args.truths ? JSON.parse(fs.readFileSync(args.truths, "utf8")) : null;
const videoId = args.video || null;
const videoBibs = (args["video-bibs"] || "").split(",").filter(Boolean);
/// Every offset within the tolerance stated above; a card without its box is a violation.
function checkCentred(where, offsets) {
  check(offsets.length > 0, `${where}: no loaded thumbnail with a known bib to measure`);
  for (const o of offsets) {
    if (o.missing) { check(false, `${where}: card ${o.id} has no box of its bib`); continue; }
    check(Math.abs(o.dx) <= 3 && Math.abs(o.dy) <= Math.max(3, o.bibH / 4),
      `${where}: the box of card ${o.id} is off its bib by ${o.dx.toFixed(1)}, ${o.dy.toFixed(1)} px (bib ${o.bibW.toFixed(1)}×${o.bibH.toFixed(1)} px)`);
  }
  return worst(offsets);
}
const centred = {};
const violations = [];
const check = (cond, msg) => { if (!cond) violations.push(msg); };
const lines = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once("line", resolve));

async function enqueue(list, offset) {
  const body = { photos: list.map((path, i) => ({ photoId: "b" + String(offset + i).padStart(3, "0"), source: { path } })) };
  const response = await fetch(`${gateway}/v1/events/${eventId}/photos`, {
    method: "POST", headers: { "content-type": "application/json", "x-request-id": "browser-test" }, body: JSON.stringify(body),
  });
  check(response.status === 202, `enqueue answered ${response.status}`);
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
let result = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (err) => violations.push("page error: " + err.message));
  await page.goto(`${gateway}/events/${eventId}`);
  await page.waitForFunction(() => document.getElementById("status").textContent === "connected", null, { timeout: 15000 });
  const half = restart ? Math.ceil(photos.length / 2) : photos.length;
  await enqueue(photos.slice(0, half), 0);
  await page.waitForFunction((n) => document.getElementById("c-processed").textContent === String(n), half, { timeout: 60000 });
  if (restart) {
    const seen = await page.evaluate(() => window.__finishline.state.lastSeq);
    console.log(`RESTART ${seen}`);
    await nextLine(); // the harness restarted the gateway and enqueued the second half
    await page.waitForFunction(() => document.getElementById("status").textContent === "connected", null, { timeout: 30000 });
  }
  await page.waitForFunction((n) => document.getElementById("c-processed").textContent === String(n) && !document.getElementById("banner").hidden, photos.length, { timeout: 60000 });
  const view = await page.evaluate(() => {
    const s = window.__finishline.state;
    const cards = [...document.querySelectorAll(".card")];
    return {
      seqs: s.seqs, lastSeq: s.lastSeq,
      total: document.getElementById("c-total").textContent,
      succeeded: document.getElementById("c-succeeded").textContent,
      failed: document.getElementById("c-failed").textContent,
      banner: document.getElementById("banner").textContent,
      cards: cards.length,
      noBib: cards.filter((c) => c.querySelector(".bib.none")).length,
      shown: Object.fromEntries(cards.map((c) => [c.querySelector(".card-title")?.textContent, c.querySelector(".bib")?.textContent || ""])),
      swatched: cards.filter((c) => c.querySelectorAll(".swatches b").length > 0).length,
      errors: cards.map((c) => c.querySelector(".err")?.textContent).filter(Boolean),
    };
  });
  const n = photos.length;
  check(view.total === String(n), `total shown ${view.total}, expected ${n}`);
  // The event's counts include the video.
  check(view.succeeded === String(n - expectFailed + (videoId ? 1 : 0)), `succeeded shown ${view.succeeded}`);
  check(view.failed === String(expectFailed), `failed shown ${view.failed}`);
  check(view.cards === n, `${view.cards} photo cards, expected ${n}`);
  if (bibs.length > 0) {
    bibs.forEach((bib, i) => {
      if (bib === "-") return;
      const id = "b" + String(i).padStart(3, "0");
      const shown = view.shown[id] || "";
      check(shown.startsWith("#" + bib + " "), `card ${id} shows "${shown}", expected bib #${bib}`);
    });
  } else {
    check(view.noBib === n - expectFailed, `"no bib read" on ${view.noBib} cards (no number is invented)`);
  }
  check(view.swatched === n - expectFailed, `colour swatches on ${view.swatched} cards`);
  // Each read photo shows its thumbnail with the bib's box over it and the colour names.
  await page.waitForFunction(() => [...document.querySelectorAll("#grid .card.succeeded .thumb img")].every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 20000 });
  const drawn = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll("#grid .card")].map((c) => [c.dataset.photo, {
    boxes: [...c.querySelectorAll(".box")].map((b) => b.dataset.bib),
    colours: c.querySelector(".colours")?.textContent || "",
    img: !!c.querySelector(".thumb img"),
  }])));
  bibs.forEach((bib, i) => {
    const id = "b" + String(i).padStart(3, "0");
    const card = drawn[id] || {};
    if (bib === "-") return;
    check(card.img, `card ${id} has no thumbnail`);
    const shown = (view.shown[id] || "").match(/^#(\d+)/);
    if (shown) {
      check((card.boxes || []).includes(shown[1]), `card ${id} shows #${shown[1]} but boxes ${JSON.stringify(card.boxes)}`);
      check(/bib \w+/.test(card.colours), `card ${id} colour names: "${card.colours}"`);
    }
  });
  if (truths) centred.grid = checkCentred("grid", await boxOffsets(page, "#grid .card", truths));
  let video = null;
  if (videoId) {
    // The video's bibs on its timeline, each with the thumbnail of its best frame.
    await page.waitForFunction((id) => {
      const marks = [...document.querySelectorAll(`[data-video="${id}"] .timeline .mark`)];
      return marks.length > 0 && marks.every((m) => { const i = m.querySelector("img"); return i && i.complete && i.naturalWidth > 0; });
    }, videoId, { timeout: 20000 });
    video = await page.evaluate((id) => [...document.querySelectorAll(`[data-video="${id}"] .timeline .mark`)].map((m) => {
      const i = m.querySelector("img");
      return { bib: m.dataset.bib, width: i.naturalWidth, height: i.naturalHeight, title: m.title };
    }), videoId);
    check(JSON.stringify(video.map((m) => m.bib).sort()) === JSON.stringify([...videoBibs].sort()), `timeline markers ${JSON.stringify(video)}, expected bibs ${videoBibs}`);
    check(video.every((m) => Math.max(m.width, m.height) === 320), `timeline thumbnails are not 320 px on their long side: ${JSON.stringify(video)}`);
    // The video's color stage: each marker names its bib's and shirt's colours.
    check(video.every((m) => /bib \w+ · shirt \w+/.test(m.title)), `timeline markers name their colours: ${JSON.stringify(video.map((m) => m.title))}`);
  }
  const paint = await page.evaluate(() => {
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    return { firstContentfulPaintMs: fcp ? Math.round(fcp.startTime) : null, domContentLoadedMs: Math.round(performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd) };
  });
  check(view.errors.length === expectFailed && view.errors.every((e) => e.includes("corrupt")), `failed cards show their error: ${JSON.stringify(view.errors)}`);
  check(view.banner.includes(`${n - expectFailed + (videoId ? 1 : 0)} succeeded`), `banner: ${view.banner}`);
  const first = view.seqs[0];
  const gapless = view.seqs.every((s, i) => s === first + i);
  check(gapless, `seqs not consecutive (gap or duplicate): ${JSON.stringify(view.seqs)}`);
  check(first === 1, `first seq ${first}: the page saw the event from its start`);
  // Find the first photo's bib through the search box (the event's bib index): exactly the
  // photos that carry it come up.
  let searched = null;
  const wanted = bibs.find((b) => b !== "-");
  if (wanted) {
    const expected = bibs.map((b, i) => (b === wanted ? "b" + String(i).padStart(3, "0") : null)).filter(Boolean).sort();
    await page.fill("#bib-input", wanted);
    await page.click("#bib-search button[type=submit]");
    await page.waitForFunction(() => document.querySelectorAll("[data-hit-photo]").length > 0, null, { timeout: 15000 });
    const hits = await page.evaluate(() => [...document.querySelectorAll("[data-hit-photo]")].map((c) => c.dataset.hitPhoto).sort());
    check(JSON.stringify(hits) === JSON.stringify(expected), `search for #${wanted} shows ${JSON.stringify(hits)}, expected ${JSON.stringify(expected)}`);
    const message = await page.textContent("#bib-message");
    check(message.startsWith("#" + wanted + ": " + expected.length + " photo"), `search message: ${message}`);
    searched = { bib: wanted, hits };
    if (truths) {
      await page.waitForFunction(() => [...document.querySelectorAll("[data-hit-photo] .thumb img")].every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 20000 });
      centred.search = checkCentred("search", await boxOffsets(page, "[data-hit-photo]", truths));
    }
    if (videoId && videoBibs.includes(wanted)) {
      await page.waitForFunction((id) => { const i = document.querySelector(`[data-hit-video="${id}"] img`); return i && i.complete && i.naturalWidth > 0; }, videoId, { timeout: 15000 });
      searched.video = videoId;
    }
  }
  await page.screenshot({ path: args.screenshot, fullPage: true });
  result = { messages: view.seqs.length, lastSeq: view.lastSeq, screenshot: args.screenshot, searched, centred, video, ...paint };
} catch (err) {
  violations.push("error: " + (err && err.message ? err.message : String(err)));
} finally {
  await browser.close();
  lines.close();
}
console.log(JSON.stringify({ ok: violations.length === 0, violations, ...result }));
process.exit(violations.length === 0 ? 0 : 1);
