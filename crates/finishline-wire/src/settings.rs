//! What the organiser knows about an event: its bib range, how many digits a bib has, and its
//! start list. Stored by the gateway (`PUT /v1/events/{eventId}/settings`), read by the worker,
//! which rejects or corrects bib reads with it.

use serde::{Deserialize, Serialize};

/// The largest bib number any setting may name.
pub const MAX_BIB: u64 = 999_999;

/// The most entries a start list may have.
pub const MAX_START_LIST: usize = 100_000;

/// Optional settings of an event; every field absent means "no constraint".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventSettings {
    /// `[min, max]`: bibs outside this range are not bibs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bib_range: Option<[u64; 2]>,
    /// `[min, max]` digits a bib has (1–6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bib_digits: Option<[u8; 2]>,
    /// The bib numbers of the registered runners: no other number is ever reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_list: Option<Vec<u64>>,
}

/// Why settings were refused, for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

impl EventSettings {
    /// Whether no setting constrains the reads.
    pub fn is_empty(&self) -> bool {
        self.bib_range.is_none() && self.bib_digits.is_none() && self.start_list.is_none()
    }

    /// Checks the settings at the edge, before they are stored.
    ///
    /// # Errors
    /// Says which field is wrong and why.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let err = |message: String| Err(SettingsError(message));
        if let Some([min, max]) = self.bib_range {
            if !(1..=MAX_BIB).contains(&min) || !(1..=MAX_BIB).contains(&max) {
                return err(format!(
                    "bibRange [{min}, {max}]: both bounds must be within 1..={MAX_BIB}"
                ));
            }
            if min > max {
                return err(format!(
                    "bibRange [{min}, {max}]: the minimum is larger than the maximum"
                ));
            }
        }
        if let Some([min, max]) = self.bib_digits {
            if !(1..=6).contains(&min) || !(1..=6).contains(&max) {
                return err(format!(
                    "bibDigits [{min}, {max}]: both counts must be within 1..=6"
                ));
            }
            if min > max {
                return err(format!(
                    "bibDigits [{min}, {max}]: the minimum is larger than the maximum"
                ));
            }
        }
        if let Some(list) = &self.start_list {
            if list.len() > MAX_START_LIST {
                return err(format!(
                    "startList has {} entries; at most {MAX_START_LIST} are accepted",
                    list.len()
                ));
            }
            if let Some((index, bad)) = list
                .iter()
                .enumerate()
                .find(|(_, n)| !(1..=MAX_BIB).contains(*n))
            {
                return err(format!(
                    "startList[{index}] = {bad}: every number must be within 1..={MAX_BIB}"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(json: &str) -> Result<EventSettings, String> {
        let settings: EventSettings = serde_json::from_str(json).map_err(|e| e.to_string())?;
        settings.validate().map_err(|e| e.to_string())?;
        Ok(settings)
    }

    #[test]
    fn fields_are_camel_case_and_absent_ones_are_left_out() {
        let settings =
            parse(r#"{"bibRange":[1,500],"bibDigits":[1,3],"startList":[7,42]}"#).expect("valid");
        assert_eq!(settings.bib_range, Some([1, 500]));
        assert_eq!(settings.bib_digits, Some([1, 3]));
        assert_eq!(settings.start_list, Some(vec![7, 42]));
        let empty = parse("{}").expect("valid");
        assert!(empty.is_empty());
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
        let range_only = EventSettings {
            bib_range: Some([10, 20]),
            ..EventSettings::default()
        };
        assert_eq!(
            serde_json::to_string(&range_only).unwrap(),
            r#"{"bibRange":[10,20]}"#
        );
    }

    #[test]
    fn bad_settings_are_refused_with_the_field_named() {
        for (json, says) in [
            (r#"{"bibRange":[500,1]}"#, "bibRange"),
            (r#"{"bibRange":[0,10]}"#, "bibRange"),
            (r#"{"bibRange":[1,1000000]}"#, "bibRange"),
            (r#"{"bibDigits":[0,3]}"#, "bibDigits"),
            (r#"{"bibDigits":[1,7]}"#, "bibDigits"),
            (r#"{"bibDigits":[4,3]}"#, "bibDigits"),
            (r#"{"startList":[1,0]}"#, "startList[1]"),
            (r#"{"startList":[1000000]}"#, "startList[0]"),
            (r#"{"bibRange":[1,2],"colour":"red"}"#, "unknown field"),
            (r#"{"bibRange":[1]}"#, "invalid length"),
            (r#"{"bibRange":[-1,2]}"#, "invalid value"),
            (r#"{"startList":"1,2"}"#, "invalid type"),
        ] {
            let err = parse(json).unwrap_err();
            assert!(err.contains(says), "{json}: {err}");
        }
    }

    #[test]
    fn a_start_list_has_at_most_100000_entries() {
        let mut settings = EventSettings {
            start_list: Some((1..=MAX_START_LIST as u64).collect()),
            ..EventSettings::default()
        };
        assert!(settings.validate().is_ok());
        settings.start_list.as_mut().unwrap().push(5);
        let err = settings.validate().unwrap_err();
        assert!(err.0.contains("at most 100000"), "{err}");
    }

    proptest! {
        #[test]
        fn valid_settings_round_trip_through_json(
            range in proptest::option::of((1..=MAX_BIB, 1..=MAX_BIB)),
            digits in proptest::option::of((1u8..=6, 1u8..=6)),
            list in proptest::option::of(proptest::collection::vec(1..=MAX_BIB, 0..50)),
        ) {
            let settings = EventSettings {
                bib_range: range.map(|(a, b)| [a.min(b), a.max(b)]),
                bib_digits: digits.map(|(a, b)| [a.min(b), a.max(b)]),
                start_list: list,
            };
            prop_assert!(settings.validate().is_ok());
            let json = serde_json::to_string(&settings).unwrap();
            let back: EventSettings = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, settings);
        }

        #[test]
        fn validate_accepts_exactly_the_documented_bounds(
            min in 0u64..=1_100_000,
            max in 0u64..=1_100_000,
            dmin in 0u8..=8,
            dmax in 0u8..=8,
        ) {
            let range = EventSettings { bib_range: Some([min, max]), ..EventSettings::default() };
            let ok = (1..=MAX_BIB).contains(&min) && (1..=MAX_BIB).contains(&max) && min <= max;
            prop_assert_eq!(range.validate().is_ok(), ok);
            let digits = EventSettings { bib_digits: Some([dmin, dmax]), ..EventSettings::default() };
            let ok = (1..=6).contains(&dmin) && (1..=6).contains(&dmax) && dmin <= dmax;
            prop_assert_eq!(digits.validate().is_ok(), ok);
            let list = EventSettings { start_list: Some(vec![min, max]), ..EventSettings::default() };
            let ok = (1..=MAX_BIB).contains(&min) && (1..=MAX_BIB).contains(&max);
            prop_assert_eq!(list.validate().is_ok(), ok);
        }
    }
}
