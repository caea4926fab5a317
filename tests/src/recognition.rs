//! Scoring a recognition engine on generated race photos (`finishline_bibgen::race`): what the
//! recognition benchmark prints and what the held-out test asserts, computed one way.
//!
//! Per category: single-bib photos score top-1 (the photo's `plateNumber`, the first plate, is
//! the bib); distractor photos the same with a sign beside the runner; multi-runner
//! photos recall (truth bibs reported) and precision (reported plates that are truth bibs);
//! bib-free photos the share with any plate at all. Colours are scored by name on every
//! reported plate that is a truth bib.
//!
//! Top-1 and recall count the bibs a person could read (`TruthBib::legible`: the generator's
//! blur left them readable); reading an illegible bib is still a right read, and recall over
//! every bib is printed beside it.

use std::time::Instant;

use finishline_bibgen::race::{Category, RaceTruth};
use finishline_media::{MediaLimits, PhotoPipeline, decode_photo, name_plate_colors};
use finishline_wire::Plate;

/// What one photo cost: wall-clock time, and the CPU time of the thread that ran it (the
/// engines run ONNX Runtime with one intra-op thread, on the caller's thread), which other
/// processes on a busy machine do not inflate.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    pub wall_ms: f64,
    /// `None` where the kernel does not say (not Linux).
    pub cpu_ms: Option<f64>,
}

impl Cost {
    /// The CPU milliseconds, or the wall-clock ones where the kernel gives no CPU time.
    pub fn ms(&self) -> f64 {
        self.cpu_ms.unwrap_or(self.wall_ms)
    }
}

/// CPU time of the calling thread so far, from `/proc/thread-self/schedstat` (nanoseconds on
/// the CPU, the first field).
fn thread_cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(nanos as f64 / 1e6)
}

/// Runs one photo through the engine's three stages, as a worker does; what it cost.
///
/// # Errors
/// Any stage's error.
pub fn recognise(engine: &dyn PhotoPipeline, jpeg: &[u8]) -> anyhow::Result<(Vec<Plate>, Cost)> {
    let start = Instant::now();
    let cpu_start = thread_cpu_ms();
    let photo = decode_photo(jpeg, &MediaLimits::default())?;
    let candidates = engine.detect(&photo)?;
    let mut plates = engine.read(&photo, &candidates)?;
    let _palette = engine.colors(&photo, &plates)?;
    name_plate_colors(&photo.image, &mut plates);
    let cost = Cost {
        wall_ms: start.elapsed().as_secs_f64() * 1000.0,
        cpu_ms: cpu_start.zip(thread_cpu_ms()).map(|(a, b)| b - a),
    };
    Ok((plates, cost))
}

/// Median and 95th percentile.
pub fn median_p95(values: &[f64]) -> (f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let p95 = v[((v.len() as f64 * 0.95).ceil() as usize).clamp(1, v.len()) - 1];
    (v[v.len() / 2], p95)
}

/// Median and p95 of the CPU and the wall-clock milliseconds per photo, as a table cell.
pub fn cost_cell(costs: &[Cost]) -> String {
    let wall: Vec<f64> = costs.iter().map(|c| c.wall_ms).collect();
    let cpu: Vec<f64> = costs.iter().filter_map(|c| c.cpu_ms).collect();
    let (wall_median, wall_p95) = median_p95(&wall);
    if cpu.len() < costs.len() {
        return format!("wall median {wall_median:.0}, p95 {wall_p95:.0}");
    }
    let (cpu_median, cpu_p95) = median_p95(&cpu);
    format!(
        "CPU median {cpu_median:.0}, p95 {cpu_p95:.0}; wall median {wall_median:.0}, p95 {wall_p95:.0}"
    )
}

/// A count of successes out of a total.
#[derive(Debug, Default, Clone, Copy)]
pub struct Ratio {
    pub hits: u32,
    pub of: u32,
}

impl Ratio {
    fn add(&mut self, hit: bool) {
        self.hits += u32::from(hit);
        self.of += 1;
    }

    /// Percent, or `None` when nothing was counted.
    pub fn percent(&self) -> Option<f64> {
        (self.of > 0).then(|| 100.0 * f64::from(self.hits) / f64::from(self.of))
    }

    /// The Wilson score interval at 95% around the pooled rate, in percent, taking each count
    /// as an independent trial (bibs of one photo are not quite: the interval is a floor on
    /// the uncertainty, not its measure). `None` when nothing was counted.
    pub fn interval(&self) -> Option<(f64, f64)> {
        const Z: f64 = 1.96;
        let n = f64::from(self.of);
        let p = self.percent()? / 100.0;
        let centre = p + Z * Z / (2.0 * n);
        let half = Z * (p * (1.0 - p) / n + Z * Z / (4.0 * n * n)).sqrt();
        let scale = 100.0 / (1.0 + Z * Z / n);
        Some((
            ((centre - half) * scale).max(0.0),
            ((centre + half) * scale).min(100.0),
        ))
    }

    fn cell(&self) -> String {
        match self.percent() {
            Some(p) => format!("{p:6.1}% ({}/{})", self.hits, self.of),
            None => "     –".to_owned(),
        }
    }
}

/// Everything the benchmark reports.
#[derive(Debug, Default)]
pub struct Scores {
    pub single_top1: Ratio,
    pub distractor_top1: Ratio,
    pub multi_recall: Ratio,
    pub multi_precision: Ratio,
    /// Every truth bib reported / every reported plate a truth bib, over all photos.
    pub recall: Ratio,
    pub precision: Ratio,
    /// Recall counting the illegible bibs too.
    pub recall_any: Ratio,
    /// Recall of legible bibs of one or two digits, and of three or more: the short ones are
    /// the hardest (a lone glyph the detector misses, a crop with little context).
    pub short_recall: Ratio,
    pub long_recall: Ratio,
    /// Bib-free photos with any plate reported (lower is better).
    pub bibfree_false: Ratio,
    pub bib_color: Ratio,
    pub shirt_color: Ratio,
    pub costs: Vec<Cost>,
    /// One line per photo that went wrong, for the failure examples.
    pub failures: Vec<String>,
}

impl Scores {
    /// Scores one photo's plates against its truth.
    pub fn add(&mut self, truth: &RaceTruth, plates: &[Plate], cost: Cost) {
        self.costs.push(cost);
        let truth_numbers: Vec<u64> = truth.bibs.iter().map(|b| b.number).collect();
        // The worker's plateNumber: the first plate (engines return them best first).
        let best = plates.first().map(|p| p.number);
        let mut wrong = Vec::new();
        let top1 = match truth.category {
            Category::Single => Some(&mut self.single_top1),
            Category::Distractor => Some(&mut self.distractor_top1),
            Category::Multi => None,
            Category::BibFree => {
                self.bibfree_false.add(!plates.is_empty());
                None
            }
        };
        if let (Some(top1), Some(bib)) = (top1, truth.bibs.first())
            && bib.legible
        {
            top1.add(best == Some(bib.number));
            if best != Some(bib.number) {
                wrong.push(format!("plateNumber {best:?}"));
            }
        }
        for bib in &truth.bibs {
            let found = plates.iter().find(|p| p.number == bib.number);
            self.recall_any.add(found.is_some());
            if bib.legible {
                self.recall.add(found.is_some());
                if bib.number < 100 {
                    self.short_recall.add(found.is_some());
                } else {
                    self.long_recall.add(found.is_some());
                }
                if truth.category == Category::Multi {
                    self.multi_recall.add(found.is_some());
                }
            }
            let Some(plate) = found else {
                if bib.legible {
                    wrong.push(format!("missed {}", bib.number));
                }
                continue;
            };
            let bib_name = plate.bib_color_name.map(|n| n.as_str());
            let shirt_name = plate.shirt_color_name.map(|n| n.as_str());
            self.bib_color.add(bib_name == Some(bib.bib_color.as_str()));
            self.shirt_color
                .add(shirt_name == Some(bib.shirt_color.as_str()));
            if bib_name != Some(bib.bib_color.as_str())
                || shirt_name != Some(bib.shirt_color.as_str())
            {
                wrong.push(format!(
                    "{}: colours {bib_name:?}/{shirt_name:?} ({:?}/{:?}), truth {}/{} ({}/{})",
                    bib.number,
                    plate.bib_color,
                    plate.shirt_color,
                    bib.bib_color,
                    bib.shirt_color,
                    bib.bib_hex,
                    bib.shirt_hex
                ));
            }
        }
        for plate in plates {
            let right = truth_numbers.contains(&plate.number);
            self.precision.add(right);
            if truth.category == Category::Multi {
                self.multi_precision.add(right);
            }
            if !right {
                let source = truth
                    .distractors
                    .iter()
                    .find(|d| d.text.contains(&plate.number.to_string()))
                    .map_or("?".to_owned(), |d| format!("{} {:?}", d.kind, d.text));
                wrong.push(format!(
                    "reported {} ({:.2}) from {source}",
                    plate.number, plate.confidence
                ));
            }
        }
        if !wrong.is_empty() {
            self.failures.push(format!(
                "{} [{}; {}; {}; {}×{}; {}]: {}",
                truth.file,
                truth.category,
                truth.font,
                truth.background,
                truth.width,
                truth.height,
                truth.conditions.join(","),
                wrong.join("; ")
            ));
        }
    }

    /// The measures, each with its ratio (`None` for the time per photo).
    fn measures(&self) -> [(&'static str, Option<Ratio>); 13] {
        [
            ("single-bib top-1", Some(self.single_top1)),
            (
                "top-1 with a distractor beside the bib",
                Some(self.distractor_top1),
            ),
            (
                "multi-runner recall (legible bibs)",
                Some(self.multi_recall),
            ),
            ("multi-runner precision", Some(self.multi_precision)),
            (
                "bib-free photos with any bib reported",
                Some(self.bibfree_false),
            ),
            ("recall, all photos (legible bibs)", Some(self.recall)),
            ("recall counting illegible bibs too", Some(self.recall_any)),
            ("recall, bibs of one or two digits", Some(self.short_recall)),
            (
                "recall, bibs of three or more digits",
                Some(self.long_recall),
            ),
            ("precision, all photos", Some(self.precision)),
            ("bib colour by name", Some(self.bib_color)),
            ("shirt colour by name", Some(self.shirt_color)),
            ("ms per photo, one core", None),
        ]
    }

    /// The table the benchmark prints (and the README shows).
    pub fn table(&self) -> String {
        self.measures()
            .into_iter()
            .map(|(measure, ratio)| {
                let cell = ratio.map_or_else(|| cost_cell(&self.costs), |r| r.cell());
                format!("| {measure} | {} |", cell.trim())
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The table of several seeds: a column per seed, then all photos pooled with its 95%
/// interval (`Ratio::interval`), then the range of the seeds' figures (one seed moves a
/// category's rate by several points, so a single seed's figure is not the result): a target
/// inside the interval is neither shown met nor missed by the sample. Times are the CPU median
/// per photo (p95 in brackets), or the wall-clock one where the kernel gives no CPU time (not
/// Linux).
pub fn table_by_seed(seeds: &[(u64, Scores)], pooled: &Scores) -> String {
    let mut lines = Vec::new();
    let columns: Vec<String> = seeds
        .iter()
        .map(|(seed, _)| format!("seed {seed}"))
        .collect();
    lines.push(format!(
        "| measure | {} | all seeds | 95% interval | range over seeds |",
        columns.join(" | ")
    ));
    lines.push(format!("|{}", " --- |".repeat(columns.len() + 4)));
    let by_seed: Vec<_> = seeds.iter().map(|(_, s)| s.measures()).collect();
    for (row, (measure, pooled_ratio)) in pooled.measures().into_iter().enumerate() {
        let interval = percent_span(pooled_ratio.and_then(|r| r.interval()));
        let (cells, all, range) = match pooled_ratio {
            Some(all) => {
                let per_seed: Vec<Option<Ratio>> = by_seed.iter().map(|m| m[row].1).collect();
                let range =
                    percent_span(spread(per_seed.iter().flatten().filter_map(Ratio::percent)));
                let cells = per_seed
                    .iter()
                    .map(|r| r.map_or_else(String::new, |r| r.cell().trim().to_owned()))
                    .collect::<Vec<_>>();
                (cells, all.cell().trim().to_owned(), range)
            }
            None => {
                let time = |costs: &[Cost]| {
                    let ms: Vec<f64> = costs.iter().map(Cost::ms).collect();
                    let (median, p95) = median_p95(&ms);
                    (median, format!("{median:.0} ({p95:.0})"))
                };
                let per: Vec<(f64, String)> = seeds.iter().map(|(_, s)| time(&s.costs)).collect();
                let (low, high) = spread(per.iter().map(|p| p.0)).unwrap_or((0.0, 0.0));
                (
                    per.into_iter().map(|p| p.1).collect(),
                    time(&pooled.costs).1,
                    format!("{low:.0}–{high:.0} ms"),
                )
            }
        };
        lines.push(format!(
            "| {measure} | {} | {all} | {interval} | {range} |",
            cells.join(" | ")
        ));
    }
    lines.join("\n")
}

/// Two percentages as a table cell ("97.6–99.1%"), or "–" when there are none.
fn percent_span(span: Option<(f64, f64)>) -> String {
    span.map_or_else(
        || "–".to_owned(),
        |(low, high)| format!("{low:.1}–{high:.1}%"),
    )
}

/// The lowest and highest of some values, if there are any.
fn spread(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((low, high)) => Some((low.min(v), high.max(v))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use finishline_wire::BoundingBox;

    fn scores(single: (u32, u32), cpu_ms: f64) -> Scores {
        Scores {
            single_top1: Ratio {
                hits: single.0,
                of: single.1,
            },
            costs: vec![Cost {
                wall_ms: cpu_ms,
                cpu_ms: Some(cpu_ms),
            }],
            ..Scores::default()
        }
    }

    #[test]
    fn short_and_long_bibs_are_counted_apart_and_illegible_ones_not_at_all() {
        let bib = |number: u64, legible: bool| {
            serde_json::json!({
                "number": number, "legible": legible, "occluded": false, "angleDegrees": 0.0,
                "bibBox": {"x": 0, "y": 0, "w": 10, "h": 10},
                "digitsBox": {"x": 0, "y": 0, "w": 10, "h": 10},
                "bibColor": "white", "bibHex": "#ffffff", "shirtColor": "red", "shirtHex": "#ff0000"
            })
        };
        let truth: RaceTruth = serde_json::from_value(serde_json::json!({
            "file": "photo-0001.jpg", "split": "heldout", "category": "multi",
            "width": 800, "height": 600, "font": "f.ttf", "background": "b.jpg",
            "bibs": [bib(7, true), bib(42, true), bib(5874, true), bib(99, false)],
            "distractors": [], "runners": 4, "conditions": []
        }))
        .expect("a truth");
        let at = BoundingBox {
            x: 0,
            y: 0,
            w: 10,
            h: 10,
        };
        let plates = [Plate::new(42, 0.99, at), Plate::new(5874, 0.99, at)];
        let mut scores = Scores::default();
        let cost = Cost {
            wall_ms: 1.0,
            cpu_ms: Some(1.0),
        };
        scores.add(&truth, &plates, cost);
        let counts = |r: Ratio| (r.hits, r.of);
        assert_eq!(counts(scores.short_recall), (1, 2));
        assert_eq!(counts(scores.long_recall), (1, 1));
        let table = scores.table();
        assert!(
            table.contains("| recall, bibs of one or two digits | 50.0% (1/2) |"),
            "{table}"
        );
    }

    /// Wilson intervals as tabulated: 953 of 967 at 95%, and the edges of the scale.
    #[test]
    fn the_pooled_interval_is_wilsons_and_stays_within_the_scale() {
        let interval = |hits, of| {
            Ratio { hits, of }
                .interval()
                .map(|(low, high)| (format!("{low:.2}"), format!("{high:.2}")))
        };
        assert_eq!(interval(953, 967), Some(("97.58".into(), "99.14".into())));
        assert_eq!(interval(0, 480), Some(("0.00".into(), "0.79".into())));
        assert_eq!(interval(20, 20), Some(("83.89".into(), "100.00".into())));
        assert_eq!(interval(0, 0), None);
    }

    #[test]
    fn without_cpu_times_the_seed_table_gives_wall_clock_times() {
        let wall = |ms: f64| Scores {
            costs: vec![Cost {
                wall_ms: ms,
                cpu_ms: None,
            }],
            ..Scores::default()
        };
        let seeds = [(1, wall(200.0)), (2, wall(240.0))];
        let pooled = Scores {
            costs: seeds.iter().flat_map(|(_, s)| s.costs.clone()).collect(),
            ..Scores::default()
        };
        let table = table_by_seed(&seeds, &pooled);
        assert_eq!(
            table.lines().last(),
            Some("| ms per photo, one core | 200 (200) | 240 (240) | 240 (240) | – | 200–240 ms |"),
            "{table}"
        );
    }

    #[test]
    fn the_seed_table_has_a_column_per_seed_the_pooled_counts_and_the_range() {
        let seeds = [(20, scores((9, 10), 150.0)), (21, scores((6, 10), 170.0))];
        let pooled = Scores {
            single_top1: Ratio { hits: 15, of: 20 },
            costs: seeds.iter().flat_map(|(_, s)| s.costs.clone()).collect(),
            ..Scores::default()
        };
        let table = table_by_seed(&seeds, &pooled);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "| measure | seed 20 | seed 21 | all seeds | 95% interval | range over seeds |"
        );
        assert_eq!(lines[1], "| --- | --- | --- | --- | --- | --- |");
        assert_eq!(
            lines[2],
            "| single-bib top-1 | 90.0% (9/10) | 60.0% (6/10) | 75.0% (15/20) | 53.1–88.8% | 60.0–90.0% |"
        );
        assert!(
            lines.contains(&"| bib-free photos with any bib reported | – | – | – | – | – |"),
            "{table}"
        );
        assert_eq!(
            lines.last().copied(),
            Some("| ms per photo, one core | 150 (150) | 170 (170) | 170 (170) | – | 150–170 ms |")
        );
    }
}
