// finishline dashboard: the event's videos, each with its bibs on a timeline. A bib is a
// marker at the time it was first seen, with the thumbnail of its best frame
// (video:completed plates[].thumbnail, GET /v1/jobs/{jobId}/thumbnails/{number}) and a bar
// from its first to its last sighting; markers that would overlap go on lanes below.
(function () {
  "use strict";
  const fl = window.__finishline;
  const $ = (id) => document.getElementById(id);
  const LANE_H = 84; // px: a thumbnail, its label and its bar
  const MARKER_PCT = 9; // % of the track a marker takes at least (its thumbnail's width)
  const videos = {};
  fl.videos = videos;

  const el = fl.el;

  const seconds = (ms) => (ms / 1000).toFixed(1) + " s";

  /// The bibs of a completed video along its duration.
  function timeline(v) {
    const track = el("div", "timeline");
    const lanes = []; // per lane, the % where its last marker ends
    const plates = [...v.plates].sort((a, b) => a.firstSeenMs - b.firstSeenMs || a.number - b.number);
    for (const plate of plates) {
      const left = Math.min(100, (100 * plate.firstSeenMs) / v.durationMs);
      const width = Math.max(0.5, (100 * (plate.lastSeenMs - plate.firstSeenMs)) / v.durationMs);
      let lane = lanes.findIndex((end) => end <= left);
      if (lane < 0) lane = lanes.push(0) - 1;
      lanes[lane] = left + Math.max(width, MARKER_PCT);
      const mark = el("div", "mark");
      mark.dataset.bib = String(plate.number);
      mark.style.left = "min(" + left.toFixed(2) + "%, 100% - 5.5rem)";
      mark.style.top = lane * LANE_H + "px";
      const colours = fl.grid.colourNames(plate);
      mark.title = "#" + plate.number + " seen from " + seconds(plate.firstSeenMs) + " to " + seconds(plate.lastSeenMs) + " · " + Math.round(plate.confidence * 100) + "%" + (colours ? " · " + colours : "");
      if (plate.thumbnail) mark.appendChild(fl.grid.thumbnailImage(plate.thumbnail));
      mark.appendChild(el("b", "", "#" + plate.number + " · " + seconds(plate.firstSeenMs)));
      const seen = el("i", "seen");
      seen.style.left = left.toFixed(2) + "%";
      seen.style.width = Math.min(width, 100 - left).toFixed(2) + "%";
      seen.style.top = lane * LANE_H + LANE_H - 12 + "px";
      track.append(mark, seen);
    }
    track.style.height = Math.max(1, lanes.length) * LANE_H + "px";
    const axis = el("div", "axis");
    axis.append(el("span", "", "0 s"), el("span", "", seconds(v.durationMs)));
    const box = el("div", "timeline-box");
    box.append(track, axis);
    return box;
  }

  /// Draws (or redraws) a video's line: its id, state and, once completed, its timeline.
  videos.render = function (v) {
    $("videos-title").hidden = false;
    let line = document.querySelector('[data-video="' + CSS.escape(v.id) + '"]');
    if (!line) {
      line = el("div", "video");
      line.dataset.video = v.id;
      $("videos").appendChild(line);
    }
    const count = v.plates ? " · " + v.plates.length + " bib" + (v.plates.length === 1 ? "" : "s") : "";
    line.replaceChildren(el("strong", "", v.id + " "), el("span", "badge", v.state + (v.stage ? " · " + v.stage : "") + count));
    if (v.plates && v.plates.length && v.durationMs) line.appendChild(timeline(v));
  };
})();
