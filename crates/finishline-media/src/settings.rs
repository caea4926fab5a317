//! Applying what the organiser knows (an event's [`EventSettings`]) to the bibs read in a
//! photo or a video: reads outside the bib range or with the wrong digit count are not bibs;
//! with a start list, a read on the list is kept, a near miss is corrected to the one listed
//! number within one digit edit, and anything else is dropped.
//!
//! Pure functions: the worker loads the settings and calls [`apply_event_settings`] when the
//! `ocr` stage ends, inside the job's span (every rejection and correction is logged there).

use std::borrow::Cow;

use finishline_wire::{EventSettings, Plate, VideoPlate};

/// How much a corrected read's confidence is multiplied by.
pub const CORRECTION_FACTOR: f32 = 0.9;

/// A bib read the settings can judge: a photo's [`Plate`] or a video's [`VideoPlate`].
pub trait BibRead {
    fn number(&self) -> u64;
    fn confidence(&self) -> f32;
    /// Turns the read into `listed`, remembering the number read and lowering the confidence.
    fn correct_to(&mut self, listed: u64);
    /// Folds in another read of the same number (after correction): the better one stays.
    fn absorb(&mut self, other: Self);
    /// Puts reads in their reporting order.
    fn order(plates: &mut [Self])
    where
        Self: Sized;
}

/// The [`BibRead`] methods that only touch the fields both read types name alike: `number`,
/// `confidence` and `corrected_from`.
macro_rules! read_fields {
    () => {
        fn number(&self) -> u64 {
            self.number
        }

        fn confidence(&self) -> f32 {
            self.confidence
        }

        fn correct_to(&mut self, listed: u64) {
            self.corrected_from = Some(self.number);
            self.number = listed;
            self.confidence *= CORRECTION_FACTOR;
        }
    };
}

impl BibRead for Plate {
    read_fields!();

    fn absorb(&mut self, other: Self) {
        if other.confidence > self.confidence {
            *self = other;
        }
    }

    /// Best first: the engine's order (`ppocr::bib::plates` ranks the plates the bib map sees
    /// before more confident ones it does not), the reads the start list corrected after
    /// those read as listed.
    fn order(plates: &mut [Self]) {
        plates.sort_by_key(|p| p.corrected_from.is_some());
    }
}

impl BibRead for VideoPlate {
    read_fields!();

    /// The bib was on screen whenever either read saw it.
    fn absorb(&mut self, other: Self) {
        let first = self.first_seen_ms.min(other.first_seen_ms);
        let last = self.last_seen_ms.max(other.last_seen_ms);
        if other.confidence > self.confidence {
            *self = other;
        }
        self.first_seen_ms = first;
        self.last_seen_ms = last;
    }

    /// In order of first appearance, ties by number (as [`crate::PlateMerger`] gives them).
    fn order(plates: &mut [Self]) {
        plates.sort_by_key(|p| (p.first_seen_ms, p.number));
    }
}

/// Applies `settings` to the reads of one photo or video: drops what is not a bib, corrects
/// near misses of the start list, merges reads that became the same number (the higher
/// confidence stays), and returns them in their order (photos best first, videos by first
/// appearance). Empty settings change nothing.
pub fn apply_event_settings<P: BibRead>(plates: Vec<P>, settings: &EventSettings) -> Vec<P> {
    let list = settings.start_list.as_deref().map(sorted);
    let mut kept: Vec<P> = Vec::with_capacity(plates.len());
    for mut plate in plates {
        let number = plate.number();
        if let Some(reason) = not_a_bib(number, settings) {
            tracing::debug!(number, reason, "bib read rejected by the event settings");
            continue;
        }
        if let Some(list) = &list
            && list.binary_search(&number).is_err()
        {
            let near = listed_within_one_edit(number, list);
            match near.as_slice() {
                [listed] => {
                    tracing::debug!(
                        number,
                        corrected_to = *listed,
                        "bib read corrected to the start list"
                    );
                    plate.correct_to(*listed);
                }
                [] => {
                    tracing::debug!(number, "bib read rejected: not on the start list");
                    continue;
                }
                several => {
                    tracing::debug!(
                        number,
                        candidates = ?several,
                        "bib read rejected: not on the start list, several listed numbers are one edit away"
                    );
                    continue;
                }
            }
        }
        match kept.iter_mut().find(|k| k.number() == plate.number()) {
            Some(same) => same.absorb(plate),
            None => kept.push(plate),
        }
    }
    P::order(&mut kept);
    kept
}

/// Why `number` is not a bib under the range and digit settings, if it is not.
fn not_a_bib(number: u64, settings: &EventSettings) -> Option<&'static str> {
    if let Some([min, max]) = settings.bib_range
        && !(min..=max).contains(&number)
    {
        return Some("outside bibRange");
    }
    if let Some([min, max]) = settings.bib_digits {
        let digits = number.checked_ilog10().map_or(1, |log| log + 1);
        if !(u32::from(min)..=u32::from(max)).contains(&digits) {
            return Some("digit count outside bibDigits");
        }
    }
    None
}

/// The start list sorted for binary search (borrowed when it already is).
fn sorted(list: &[u64]) -> Cow<'_, [u64]> {
    if list.is_sorted() {
        Cow::Borrowed(list)
    } else {
        let mut owned = list.to_vec();
        owned.sort_unstable();
        Cow::Owned(owned)
    }
}

/// The distinct listed numbers one digit substitution, deletion or insertion away from
/// `number` (written in decimal without leading zeros), in increasing order.
fn listed_within_one_edit(number: u64, list: &[u64]) -> Vec<u64> {
    let digits: Vec<u8> = number.to_string().into_bytes();
    let mut found = Vec::new();
    let mut check = |candidate: &[u8]| {
        if candidate.is_empty() || candidate[0] == b'0' || candidate.len() > 19 {
            return;
        }
        let value = candidate
            .iter()
            .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
        if value != number && list.binary_search(&value).is_ok() {
            found.push(value);
        }
    };
    let mut candidate = digits.clone();
    for i in 0..digits.len() {
        for d in b'0'..=b'9' {
            if d != digits[i] {
                candidate[i] = d;
                check(&candidate);
            }
        }
        candidate[i] = digits[i];
    }
    for i in 0..digits.len() {
        let mut shorter = digits.clone();
        shorter.remove(i);
        check(&shorter);
    }
    for i in 0..=digits.len() {
        for d in b'0'..=b'9' {
            let mut longer = digits.clone();
            longer.insert(i, d);
            check(&longer);
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use finishline_wire::BoundingBox;

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

    fn video(number: u64, confidence: f32, first: u64, last: u64) -> VideoPlate {
        VideoPlate {
            number,
            confidence,
            first_seen_ms: first,
            last_seen_ms: last,
            ..VideoPlate::default()
        }
    }

    fn numbers(plates: &[Plate]) -> Vec<u64> {
        plates.iter().map(|p| p.number).collect()
    }

    fn list(numbers: &[u64]) -> EventSettings {
        EventSettings {
            start_list: Some(numbers.to_vec()),
            ..EventSettings::default()
        }
    }

    #[test]
    fn empty_settings_keep_every_read_in_the_engines_order() {
        let out = apply_event_settings(
            vec![plate(7, 0.5), plate(1234, 0.9), plate(99, 0.7)],
            &EventSettings::default(),
        );
        assert_eq!(numbers(&out), vec![7, 1234, 99]);
        assert!(out.iter().all(|p| p.corrected_from.is_none()));
    }

    #[test]
    fn reads_outside_the_bib_range_are_dropped() {
        let settings = EventSettings {
            bib_range: Some([100, 500]),
            ..EventSettings::default()
        };
        let out = apply_event_settings(
            vec![
                plate(99, 0.9),
                plate(100, 0.8),
                plate(500, 0.7),
                plate(501, 0.95),
                plate(2024, 0.99),
            ],
            &settings,
        );
        assert_eq!(numbers(&out), vec![100, 500]);
    }

    #[test]
    fn reads_with_a_digit_count_outside_bib_digits_are_dropped() {
        let settings = EventSettings {
            bib_digits: Some([2, 3]),
            ..EventSettings::default()
        };
        let out = apply_event_settings(
            vec![
                plate(7, 0.9),
                plate(10, 0.8),
                plate(999, 0.7),
                plate(1000, 0.95),
            ],
            &settings,
        );
        assert_eq!(numbers(&out), vec![10, 999]);
    }

    #[test]
    fn a_listed_read_is_kept_unchanged() {
        let out = apply_event_settings(vec![plate(1234, 0.8)], &list(&[5, 1234, 7777]));
        assert_eq!(out, vec![plate(1234, 0.8)]);
    }

    #[test]
    fn a_near_miss_of_exactly_one_listed_number_is_corrected() {
        // Substitution, deletion and insertion of one digit.
        for (read, listed) in [(1284, 1234), (134, 1234), (12534, 1234), (234, 1234)] {
            let out = apply_event_settings(vec![plate(read, 0.8)], &list(&[1234, 7777]));
            assert_eq!(out.len(), 1, "{read}");
            assert_eq!(out[0].number, listed, "{read}");
            assert_eq!(out[0].corrected_from, Some(read));
            assert!((out[0].confidence - 0.72).abs() < 1e-6);
        }
        let json =
            serde_json::to_value(&apply_event_settings(vec![plate(1284, 0.8)], &list(&[1234]))[0])
                .unwrap();
        assert_eq!(json["number"], 1234);
        assert_eq!(json["correctedFrom"], 1284);
    }

    #[test]
    fn an_ambiguous_near_miss_is_dropped() {
        // 1235 is one substitution from both 1234 and 1236.
        let out = apply_event_settings(vec![plate(1235, 0.9)], &list(&[1234, 1236]));
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn a_read_far_from_the_list_is_never_reported() {
        let out = apply_event_settings(
            vec![plate(4321, 0.99), plate(88, 0.5)],
            &list(&[1234, 7777, 1]),
        );
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn leading_zeros_are_no_edit() {
        // Dropping the leading 1 of 1023 gives "023", which is not 23 within one edit.
        let out = apply_event_settings(vec![plate(1023, 0.9)], &list(&[23]));
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn an_unsorted_list_with_duplicates_works_the_same() {
        let out = apply_event_settings(
            vec![plate(1284, 0.8), plate(7777, 0.6)],
            &list(&[7777, 1234, 5, 1234]),
        );
        // 1284 corrected to 1234; a corrected read comes after one read as listed.
        assert_eq!(numbers(&out), vec![7777, 1234]);
    }

    #[test]
    fn a_correction_merges_with_a_read_of_the_same_number_keeping_the_better_one() {
        let out = apply_event_settings(
            vec![plate(1234, 0.6), plate(1284, 0.9), plate(7777, 0.7)],
            &list(&[1234, 7777]),
        );
        // 1284 → 1234 at 0.81 beats the direct read at 0.6; as a corrected read it comes
        // after the one read as listed.
        assert_eq!(numbers(&out), vec![7777, 1234]);
        assert_eq!(out[1].corrected_from, Some(1284));
        assert!((out[1].confidence - 0.81).abs() < 1e-6);

        let out = apply_event_settings(vec![plate(1284, 0.8), plate(1234, 0.75)], &list(&[1234]));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].corrected_from, None, "the direct read is better");
        assert_eq!(out[0].confidence, 0.75);
    }

    #[test]
    fn corrected_reads_come_after_reads_on_the_list() {
        let out = apply_event_settings(
            vec![plate(1284, 0.8), plate(7777, 0.75)],
            &list(&[1234, 7777]),
        );
        assert_eq!(numbers(&out), vec![7777, 1234]);
    }

    #[test]
    fn the_engines_order_stays_when_settings_drop_nothing() {
        // The engine ranks the bib the map sees before a sign's number read more surely.
        let settings = EventSettings {
            bib_range: Some([1, 15_000]),
            ..EventSettings::default()
        };
        let out = apply_event_settings(vec![plate(5930, 0.99), plate(4821, 1.0)], &settings);
        assert_eq!(numbers(&out), vec![5930, 4821]);
    }

    #[test]
    fn range_and_list_together() {
        let settings = EventSettings {
            bib_range: Some([1, 2000]),
            bib_digits: Some([4, 4]),
            start_list: Some(vec![1234, 1500]),
        };
        let out = apply_event_settings(
            vec![plate(12345, 0.9), plate(1500, 0.8), plate(234, 0.99)],
            &settings,
        );
        assert_eq!(numbers(&out), vec![1500]);
    }

    #[test]
    fn video_plates_are_filtered_corrected_and_merged_with_their_times() {
        let out = apply_event_settings(
            vec![
                video(1234, 0.6, 1000, 2000),
                video(1284, 0.9, 1500, 3000),
                video(4321, 0.99, 0, 500),
                video(7777, 0.5, 200, 300),
            ],
            &list(&[1234, 7777]),
        );
        // Videos keep their order of first appearance.
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], video(7777, 0.5, 200, 300));
        assert_eq!(out[1].number, 1234);
        assert_eq!(out[1].corrected_from, Some(1284));
        assert!((out[1].confidence - 0.81).abs() < 1e-6);
        assert_eq!((out[1].first_seen_ms, out[1].last_seen_ms), (1000, 3000));
        let json = serde_json::to_value(&out[1]).unwrap();
        assert_eq!(json["correctedFrom"], 1284);

        let ranged = EventSettings {
            bib_range: Some([1, 999]),
            ..EventSettings::default()
        };
        let out = apply_event_settings(vec![video(1234, 0.9, 0, 1), video(12, 0.1, 0, 1)], &ranged);
        assert_eq!(out, vec![video(12, 0.1, 0, 1)]);
    }

    #[test]
    fn one_edit_neighbours() {
        assert_eq!(
            listed_within_one_edit(12, &[1, 2, 12, 13, 22, 112, 120]),
            vec![1, 2, 13, 22, 112, 120]
        );
        assert!(listed_within_one_edit(5, &[55_555]).is_empty());
    }
}
