//! Merging the bibs read in a video's sampled frames into one entry per number, with the
//! time it was first and last seen, and the colours of its best read (for the `color` stage).

use std::collections::HashMap;

use finishline_wire::{Plate, VideoPlate};

/// Collects the reads of each frame; the same number read in several frames is one bib.
#[derive(Debug, Default)]
pub struct PlateMerger {
    by_number: HashMap<u64, VideoPlate>,
    best: BestReads,
}

/// Each number's read with the highest confidence, as read in its frame (box and colours).
#[derive(Debug, Default)]
pub struct BestReads(HashMap<u64, Plate>);

impl BestReads {
    /// Gives each plate the colours of its number's best read: the number as read, when a
    /// start list corrected it. A plate whose number was never read keeps none.
    pub fn paint(&self, plates: &mut [VideoPlate]) {
        for plate in plates {
            if let Some(read) = self.0.get(&plate.corrected_from.unwrap_or(plate.number)) {
                plate.paint(read);
            }
        }
    }
}

impl PlateMerger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the plates read in the frame at `time_ms`. A number read twice in one frame counts
    /// once; its confidence is the best of its reads. Returns the numbers this frame shows
    /// best so far (first seen, or read with a higher confidence than in any earlier frame):
    /// the frames a thumbnail of each number is taken from, and whose colours it keeps.
    pub fn add_frame(&mut self, time_ms: u64, plates: &[Plate]) -> Vec<u64> {
        let mut best_here = Vec::new();
        for plate in plates {
            let confidence = plate.confidence.clamp(0.0, 1.0);
            let mut improved = true;
            self.by_number
                .entry(plate.number)
                .and_modify(|seen| {
                    seen.first_seen_ms = seen.first_seen_ms.min(time_ms);
                    seen.last_seen_ms = seen.last_seen_ms.max(time_ms);
                    improved = confidence > seen.confidence;
                    seen.confidence = seen.confidence.max(confidence);
                })
                .or_insert(VideoPlate {
                    number: plate.number,
                    confidence,
                    first_seen_ms: time_ms,
                    last_seen_ms: time_ms,
                    ..VideoPlate::default()
                });
            if improved {
                self.best.0.insert(plate.number, plate.clone());
                if !best_here.contains(&plate.number) {
                    best_here.push(plate.number);
                }
            }
        }
        best_here
    }

    /// Numbers seen so far.
    pub fn len(&self) -> usize {
        self.by_number.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_number.is_empty()
    }

    /// One entry per number, in order of first appearance (ties by number), without colours
    /// yet; and each number's best read, whose colours [`BestReads::paint`] gives them.
    pub fn into_plates(self) -> (Vec<VideoPlate>, BestReads) {
        let mut plates: Vec<VideoPlate> = self.by_number.into_values().collect();
        plates.sort_by_key(|p| (p.first_seen_ms, p.number));
        (plates, self.best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use finishline_wire::{BoundingBox, ColorName};

    fn plate(number: u64, confidence: f32) -> Plate {
        Plate::new(
            number,
            confidence,
            BoundingBox {
                x: 0,
                y: 0,
                w: 10,
                h: 10,
            },
        )
    }

    #[test]
    fn reads_of_one_number_across_frames_merge_into_first_and_last_seen_with_the_best_confidence() {
        let mut merger = PlateMerger::new();
        assert_eq!(merger.add_frame(0, &[plate(42, 0.6)]), [42]);
        assert_eq!(
            merger.add_frame(500, &[plate(42, 0.9), plate(7, 0.8)]),
            [42, 7]
        );
        assert!(merger.add_frame(1000, &[]).is_empty());
        assert_eq!(
            merger.add_frame(1500, &[plate(42, 0.7), plate(42, 0.95)]),
            [42],
            "the best frame of 42 so far, once"
        );
        assert!(
            merger.add_frame(2000, &[plate(7, 0.5)]).is_empty(),
            "a weaker read: the best frame of 7 stays at 500 ms"
        );
        assert_eq!(merger.len(), 2);
        let (plates, _) = merger.into_plates();
        assert_eq!(
            plates,
            vec![
                VideoPlate {
                    number: 42,
                    confidence: 0.95,
                    first_seen_ms: 0,
                    last_seen_ms: 1500,
                    ..VideoPlate::default()
                },
                VideoPlate {
                    number: 7,
                    confidence: 0.8,
                    first_seen_ms: 500,
                    last_seen_ms: 2000,
                    ..VideoPlate::default()
                },
            ]
        );
    }

    #[test]
    fn frames_added_out_of_order_still_give_the_earliest_and_latest_time() {
        let mut merger = PlateMerger::new();
        merger.add_frame(3000, &[plate(5, 0.4)]);
        merger.add_frame(1000, &[plate(5, 1.7)]);
        merger.add_frame(2000, &[plate(5, 0.2)]);
        let (plates, _) = merger.into_plates();
        assert_eq!(plates.len(), 1);
        assert_eq!(
            (plates[0].first_seen_ms, plates[0].last_seen_ms),
            (1000, 3000)
        );
        assert_eq!(plates[0].confidence, 1.0, "confidence stays within 0–1");
    }

    #[test]
    fn a_video_without_reads_has_no_plates() {
        assert!(PlateMerger::new().into_plates().0.is_empty());
    }

    fn coloured(number: u64, confidence: f32, bib: ColorName, hex: &str) -> Plate {
        Plate {
            bib_color: Some(hex.to_owned()),
            shirt_color: Some("#202020".to_owned()),
            bib_color_name: Some(bib),
            shirt_color_name: Some(ColorName::Black),
            ..plate(number, confidence)
        }
    }

    #[test]
    fn each_bib_takes_the_colours_of_its_best_read_also_when_corrected() {
        let mut merger = PlateMerger::new();
        merger.add_frame(0, &[coloured(42, 0.6, ColorName::Grey, "#909090")]);
        merger.add_frame(500, &[coloured(42, 0.9, ColorName::White, "#f0f0f0")]);
        merger.add_frame(1000, &[coloured(42, 0.7, ColorName::Yellow, "#e0e000")]);
        merger.add_frame(1000, &[plate(8, 0.8)]);
        let (mut plates, best) = merger.into_plates();
        assert!(plates.iter().all(|p| p.bib_color.is_none()), "none before");
        // A start list corrected the read 42 to 43: the colours follow the read.
        plates[0].corrected_from = Some(42);
        plates[0].number = 43;
        plates.push(VideoPlate {
            number: 99,
            ..VideoPlate::default()
        });
        best.paint(&mut plates);
        assert_eq!(plates[0].bib_color.as_deref(), Some("#f0f0f0"));
        assert_eq!(plates[0].bib_color_name, Some(ColorName::White));
        assert_eq!(plates[0].shirt_color_name, Some(ColorName::Black));
        assert_eq!(plates[1].number, 8);
        assert_eq!(
            plates[1].bib_color, None,
            "a read without colours gives none"
        );
        assert_eq!(plates[2].bib_color_name, None, "never read: no colours");
    }
}
