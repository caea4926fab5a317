// The dashboard opened late, in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core). Run by the Rust e2e test `browser::a_dashboard_opened_after_the_history_…`,
// which has ended more of the event's jobs than its message history keeps before the page
// opens:
//   node late.mjs --gateway URL --event ID --photos N --failed N --no-bib N
// The page must be told `recovered: false`, fill its grid from the event's photo listing
// (GET /v1/events/{eventId}/photos) and show every photo: the filters' counts, thumbnails with
// bib boxes on the cards on screen, and the last photo after scrolling to the end.
// Prints one JSON line { ok, violations, ... } and exits 0 when ok.
import { chromium } from "playwright-core";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith("--")) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith("--") ? all[i + 1] : "true"]);
    return acc;
  }, []),
);
const total = Number(args.photos), failed = Number(args.failed), noBib = Number(args["no-bib"]);
const violations = [];
const check = (cond, msg) => { if (!cond) violations.push(msg); };

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
let result = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
  page.on("pageerror", (err) => violations.push("page error: " + err.message));
  await page.goto(`${args.gateway}/events/${args.event}`);
  await page.waitForFunction(() => window.__finishline.listing && (window.__finishline.listing.done || window.__finishline.listing.error), null, { timeout: 30000 });
  await page.waitForFunction((n) => { const g = window.__finishline.grid; return g.counts && g.counts.all === n && !g.dirty; }, total, { timeout: 30000 })
    .catch(() => {});
  await page.waitForFunction(() => [...document.querySelectorAll("#grid .thumb img")].slice(0, 8).every((i) => i.complete && i.naturalWidth > 0), null, { timeout: 20000 });
  const view = await page.evaluate(() => {
    const cards = [...document.querySelectorAll("#grid .card")];
    const fl = window.__finishline;
    return {
      listing: fl.listing, counts: fl.grid.counts || {}, allShownMs: Math.round(performance.now()),
      processed: document.getElementById("c-processed").textContent,
      replayed: fl.state.seqs.length,
      withBoxes: cards.filter((c) => c.querySelector(".box")).length,
      withImages: cards.filter((c) => c.querySelector(".thumb img")).length,
      domCards: cards.length,
    };
  });
  check(view.listing.done && !view.listing.error, `listing: ${JSON.stringify(view.listing)}`);
  check(view.listing.photos >= total, `the listing gave ${view.listing.photos} photos, expected ${total}`);
  check(view.counts.all === total, `the grid holds ${view.counts.all} photos, expected ${total}`);
  check(view.counts.failed === failed, `failed filter counts ${view.counts.failed}, expected ${failed}`);
  check(view.counts.nobib === noBib, `no-bib filter counts ${view.counts.nobib}, expected ${noBib}`);
  check(view.processed === String(total), `processed count shows ${view.processed}`);
  check(view.replayed === 0, `${view.replayed} messages replayed: the history should not reach back`);
  check(view.withBoxes > 0 && view.withImages === view.domCards, `cards on screen: ${view.withImages} of ${view.domCards} with a thumbnail, ${view.withBoxes} with boxes`);
  const last = await page.evaluate(async () => {
    window.scrollTo(0, document.body.scrollHeight);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return [...document.querySelectorAll("#grid .card")].map((c) => c.dataset.photo).sort().pop();
  });
  check(last === "photo-" + String(total - 1).padStart(5, "0"), `after scrolling to the end the last card is ${last}`);
  result = { listingPages: view.listing.pages, listedPhotos: view.listing.photos, allShownMs: view.allShownMs, domCards: view.domCards };
} catch (err) {
  violations.push("error: " + (err && err.message ? err.message : String(err)));
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ok: violations.length === 0, violations, ...result }));
process.exit(violations.length === 0 ? 0 : 1);
