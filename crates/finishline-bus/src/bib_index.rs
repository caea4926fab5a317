//! The bib index of an event: which photos and videos show a number.
//!
//! The worker hands a job's sightings ([`BibIndex`]) to the step that ends the job
//! ([`crate::BusWriter::finish_indexed`]); `bib_index.lua` (finishline-redis) writes them in the same Lua
//! call, only when that call ends the job as succeeded — so a re-run, a duplicate delivery, a
//! superseded run, a cancelled or a failed job never adds a sighting. Three keys per event
//! (see [`crate::Keys::bib_index`]), renewed with every job end of the event. Reads are one
//! `ZRANGEBYLEX` each: a page of a number's sightings costs O(log N + page) however many
//! photos show it.

use finishline_wire::{
    BibCounts, BibNumber, BibNumbers, BibPage, BibPhoto, BibVideo, EventId, Plate, VideoPlate,
    photo_sightings, video_sightings,
};

use crate::{BusError, ProgressBus};

/// Most entries one read returns.
pub const MAX_BIB_PAGE: usize = 1000;

/// What one job adds to its event's bib index when it succeeds. Without sightings, the job's
/// end only renews the index's TTL.
#[derive(Debug, Clone)]
pub struct BibIndex {
    event_id: EventId,
    /// number, kind (`p` or `v`), the sighting's JSON.
    sightings: Vec<(u64, &'static str, String)>,
}

impl BibIndex {
    /// An index step with no sightings (a failed job, or one that read no bib).
    pub fn empty(event_id: EventId) -> Self {
        Self {
            event_id,
            sightings: Vec::new(),
        }
    }

    /// The sightings of a completed photo: one per number, its best read.
    ///
    /// # Errors
    /// Fails when a sighting cannot be encoded (never expected).
    pub fn photo(
        event_id: EventId,
        photo_id: &str,
        job_id: &str,
        plates: &[Plate],
    ) -> Result<Self, BusError> {
        Self::encoded(event_id, "p", photo_sightings(photo_id, job_id, plates))
    }

    /// The sightings of a completed video: one per number.
    ///
    /// # Errors
    /// Fails when a sighting cannot be encoded (never expected).
    pub fn video(
        event_id: EventId,
        video_id: &str,
        job_id: &str,
        plates: &[VideoPlate],
    ) -> Result<Self, BusError> {
        Self::encoded(event_id, "v", video_sightings(video_id, job_id, plates))
    }

    /// One sighting per number, of `kind` (`p` or `v`), each encoded as JSON.
    fn encoded<T: serde::Serialize>(
        event_id: EventId,
        kind: &'static str,
        sightings: Vec<(u64, T)>,
    ) -> Result<Self, BusError> {
        let sightings = sightings
            .into_iter()
            .map(|(number, sighting)| {
                let json = serde_json::to_string(&sighting).map_err(encode_error)?;
                Ok((number, kind, json))
            })
            .collect::<Result<_, BusError>>()?;
        Ok(Self {
            event_id,
            sightings,
        })
    }

    pub fn len(&self) -> usize {
        self.sightings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sightings.is_empty()
    }

    pub(crate) fn event_id(&self) -> &EventId {
        &self.event_id
    }

    /// Number, kind (`p` or `v`) and JSON of each sighting.
    pub(crate) fn sightings(&self) -> &[(u64, &'static str, String)] {
        &self.sightings
    }
}

fn encode_error(err: serde_json::Error) -> BusError {
    BusError::Malformed(format!("bib sighting: {err}"))
}

/// One member of the sightings set: `<number>:<seq>:<kind>:<json>`.
fn decode_member(member: &str) -> Option<(u64, char, &str)> {
    let (_number, rest) = member.split_once(':')?;
    let (seq, rest) = rest.split_once(':')?;
    let (kind, json) = rest.split_once(':')?;
    Some((seq.parse().ok()?, kind.chars().next()?, json))
}

impl ProgressBus {
    /// A page of the photos and videos of an event that show `number`, in the order their
    /// jobs ended: at most `limit` sightings after `cursor` (a page's `nextCursor`).
    ///
    /// # Errors
    /// Fails when Redis cannot be reached or holds a malformed sighting.
    pub async fn bib_page(
        &self,
        event_id: &EventId,
        number: u64,
        cursor: Option<u64>,
        limit: usize,
    ) -> Result<BibPage, BusError> {
        let limit = limit.clamp(1, MAX_BIB_PAGE);
        let [sightings, _, counts] = self.keys().bib_index(event_id);
        let start = match cursor {
            // ';' sorts right after ':', so every member of that seq is before it.
            Some(seq) => format!("[{number}:{seq:012};"),
            None => format!("[{number}:"),
        };
        let (members, count): (Vec<String>, (Option<u64>, Option<u64>)) = redis::pipe()
            .cmd("ZRANGEBYLEX")
            .arg(&sightings)
            .arg(start)
            .arg(format!("({number};"))
            .arg("LIMIT")
            .arg(0)
            .arg(limit + 1)
            .cmd("HMGET")
            .arg(&counts)
            .arg(format!("p:{number}"))
            .arg(format!("v:{number}"))
            .query_async(&mut self.connection())
            .await?;
        let more = members.len() > limit;
        let mut page = BibPage {
            number,
            photos: Vec::new(),
            videos: Vec::new(),
            counts: BibCounts {
                photos: count.0.unwrap_or(0),
                videos: count.1.unwrap_or(0),
            },
            next_cursor: None,
        };
        let mut last = None;
        for member in members.iter().take(limit) {
            let malformed = || BusError::Malformed(format!("bib sighting {member:?}"));
            let (seq, kind, json) = decode_member(member).ok_or_else(malformed)?;
            match kind {
                'p' => page
                    .photos
                    .push(serde_json::from_str::<BibPhoto>(json).map_err(|_| malformed())?),
                'v' => page
                    .videos
                    .push(serde_json::from_str::<BibVideo>(json).map_err(|_| malformed())?),
                _ => return Err(malformed()),
            }
            last = Some(seq);
        }
        if more {
            page.next_cursor = last.map(|seq| seq.to_string());
        }
        Ok(page)
    }

    /// The numbers of an event that start with `prefix` (digits; empty: every number), in
    /// text order, at most `limit` after `cursor` (a number a previous page ended with), each
    /// with how many photos and videos show it.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn bib_numbers(
        &self,
        event_id: &EventId,
        prefix: &str,
        cursor: Option<u64>,
        limit: usize,
    ) -> Result<BibNumbers, BusError> {
        let limit = limit.clamp(1, MAX_BIB_PAGE);
        let [_, numbers_key, counts] = self.keys().bib_index(event_id);
        let start = match cursor {
            // A cursor that does not start with the prefix is outside the range: ignored.
            Some(after) if after.to_string().starts_with(prefix) => format!("({after}"),
            _ if prefix.is_empty() => "-".to_owned(),
            _ => format!("[{prefix}"),
        };
        // Digits sort before ':', so "<prefix>:" ends the numbers that start with the prefix.
        let end = if prefix.is_empty() {
            "+".to_owned()
        } else {
            format!("({prefix}:")
        };
        let mut conn = self.connection();
        let mut found: Vec<String> = redis::cmd("ZRANGEBYLEX")
            .arg(&numbers_key)
            .arg(start)
            .arg(end)
            .arg("LIMIT")
            .arg(0)
            .arg(limit + 1)
            .query_async(&mut conn)
            .await?;
        let more = found.len() > limit;
        found.truncate(limit);
        let mut list = BibNumbers {
            prefix: prefix.to_owned(),
            numbers: Vec::with_capacity(found.len()),
            next_cursor: None,
        };
        if found.is_empty() {
            return Ok(list);
        }
        let mut fields = redis::cmd("HMGET");
        fields.arg(&counts);
        for number in &found {
            fields.arg(format!("p:{number}")).arg(format!("v:{number}"));
        }
        let values: Vec<Option<u64>> = fields.query_async(&mut conn).await?;
        for (i, number) in found.iter().enumerate() {
            let number = number
                .parse()
                .map_err(|_| BusError::Malformed(format!("bib number {number:?}")))?;
            list.numbers.push(BibNumber {
                number,
                photos: values.get(2 * i).copied().flatten().unwrap_or(0),
                videos: values.get(2 * i + 1).copied().flatten().unwrap_or(0),
            });
        }
        if more {
            list.next_cursor = found.last().cloned();
        }
        Ok(list)
    }

    /// Renews the TTL of an event's bib index, after a job of the event ended outside the
    /// worker's batches (cancellation).
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn renew_bib_index(&self, event_id: &EventId) -> Result<(), BusError> {
        let ttl = self.limits().retention.as_secs().max(1);
        let mut pipe = redis::pipe();
        for key in self.keys().bib_index(event_id) {
            pipe.cmd("EXPIRE").arg(key).arg(ttl).ignore();
        }
        pipe.query_async::<()>(&mut self.connection()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_decodes_to_its_seq_kind_and_json() {
        let member = r#"1234:000000000042:p:{"photoId":"a:b","jobId":"j"}"#;
        assert_eq!(
            decode_member(member),
            Some((42, 'p', r#"{"photoId":"a:b","jobId":"j"}"#))
        );
        assert_eq!(decode_member("1234:x:p:{}"), None);
        assert_eq!(decode_member("1234"), None);
    }

    #[test]
    fn members_of_a_number_sort_between_its_bounds_and_no_other_number_does() {
        let member = |n: &str, seq: u64| format!("{n}:{seq:012}:p:{{}}");
        let (low, high) = ("12:", "12;");
        for inside in [member("12", 1), member("12", 999_999_999_999)] {
            assert!(low < inside.as_str() && inside.as_str() < high, "{inside}");
        }
        for outside in [
            member("1", 5),
            member("120", 5),
            member("123", 5),
            member("13", 5),
        ] {
            assert!(
                !(low < outside.as_str() && outside.as_str() < high),
                "{outside}"
            );
        }
        // A cursor bound excludes its own seq and keeps the later ones.
        let cursor = format!("12:{:012};", 42);
        assert!(member("12", 42) < cursor && cursor < member("12", 43));
    }
}
