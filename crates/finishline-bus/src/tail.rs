//! Tailing the progress streams (one per event group): the gateway's side of the bus.

use std::sync::Arc;
use std::time::Duration;

use finishline_redis::{RedisConn, query_each};
use finishline_wire::MessageName;
use redis::streams::{StreamId, StreamKey, StreamReadOptions, StreamReadReply};

use crate::{BusError, Keys};

/// One message as it is relayed: its event, name, `seq`, and JSON payload (already holding
/// every field; validated once when read, then emitted as is: gateways never re-encode it).
#[derive(Debug, Clone)]
pub struct StreamMessage {
    pub event_id: Arc<str>,
    pub name: MessageName,
    pub seq: u64,
    pub data: Arc<serde_json::value::RawValue>,
    /// The job the message is about, for the `job:<jobId>` room (relayed messages only).
    pub job_id: Option<Arc<str>>,
    /// When Redis stored it, in Unix milliseconds (from the stream id; relayed messages only).
    pub published_ms: Option<u64>,
    /// Who owns the job, for the `user:<userId>` room (relayed messages of owned jobs only).
    pub owner: Option<Arc<str>>,
}

pub(crate) fn parse_entry(
    entry: &StreamId,
    event_id: Option<&str>,
) -> Result<StreamMessage, BusError> {
    let text = |field: &str| -> Result<String, BusError> {
        entry
            .get::<String>(field)
            .ok_or_else(|| BusError::Malformed(format!("entry {} lacks field {field}", entry.id)))
    };
    let name = text("n")?;
    let name = MessageName::parse(&name)
        .ok_or_else(|| BusError::Malformed(format!("unknown message name {name:?}")))?;
    let event_id_given = event_id.is_some();
    let (event_id, seq) = match event_id {
        Some(e) => {
            let seq = entry
                .id
                .split('-')
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| BusError::Malformed(format!("history id {}", entry.id)))?;
            (Arc::from(e), seq)
        }
        None => {
            let seq = text("s")?
                .parse()
                .map_err(|_| BusError::Malformed(format!("seq of entry {}", entry.id)))?;
            (Arc::from(text("e")?.as_str()), seq)
        }
    };
    let job_id = entry
        .get::<String>("j")
        .filter(|j| !j.is_empty())
        .map(|j| Arc::from(j.as_str()));
    let owner = entry
        .get::<String>("o")
        .filter(|o| !o.is_empty())
        .map(|o| Arc::from(o.as_str()));
    let published_ms = if event_id_given {
        None
    } else {
        entry.id.split('-').next().and_then(|ms| ms.parse().ok())
    };
    Ok(StreamMessage {
        event_id,
        name,
        seq,
        data: Arc::from(
            serde_json::value::RawValue::from_string(text("d")?).map_err(|err| {
                BusError::Malformed(format!("entry {} is not JSON: {err}", entry.id))
            })?,
        ),
        job_id,
        published_ms,
        owner,
    })
}

/// How long a Cluster tail waits between polls that found nothing.
const CLUSTER_POLL: Duration = Duration::from_millis(10);

/// A cursor on the progress streams, one per event group ([`Keys::progress_streams`]). It
/// remembers its position in each, so after a Redis error the next `next_batch` resumes
/// exactly where the last one ended: no gap, no duplicate. An event's messages are all in its
/// group's stream, so each event's order is kept.
///
/// On one server (standalone, Sentinel) one `XREAD BLOCK` reads every group's stream. Redis
/// Cluster refuses one XREAD over keys of several slots, and a blocking read would hold the
/// node connection other reads share, so there the tail polls: one non-blocking XREAD per
/// group, sent together (one round trip per node), again at once while messages come, after
/// 10 ms when none did.
pub struct StreamTail {
    conn: RedisConn,
    streams: Vec<String>,
    positions: Vec<String>,
    polling: bool,
}

impl StreamTail {
    /// Opens a tail that starts after the newest message of each stream present now.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn from_now(conn: RedisConn, keys: &Keys) -> Result<Self, BusError> {
        let streams = keys.progress_streams();
        let reads: Vec<redis::Cmd> = streams
            .iter()
            .map(|stream| {
                let mut cmd = redis::cmd("XREVRANGE");
                cmd.arg(stream).arg("+").arg("-").arg("COUNT").arg(1);
                cmd
            })
            .collect();
        let newest: Vec<redis::streams::StreamRangeReply> = query_each(&conn, &reads).await?;
        let positions = newest
            .iter()
            .map(|reply| {
                reply
                    .ids
                    .first()
                    .map(|e| e.id.clone())
                    .unwrap_or_else(|| "0-0".to_owned())
            })
            .collect();
        Ok(Self {
            polling: conn.is_cluster(),
            conn,
            streams,
            positions,
        })
    }

    /// The id of the last entry read in each group's stream (`-` for none), for logs.
    pub fn position(&self) -> String {
        let read: Vec<String> = self
            .positions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.as_str() != "0-0")
            .map(|(g, p)| format!("g{g}:{p}"))
            .collect();
        if read.is_empty() {
            "-".to_owned()
        } else {
            read.join(",")
        }
    }

    /// Waits up to `block` for new messages and returns at most `count` per group, in order
    /// within each group. Malformed entries are skipped with a warning, never relayed.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached; the positions are kept.
    pub async fn next_batch(
        &mut self,
        block: Duration,
        count: usize,
    ) -> Result<Vec<StreamMessage>, BusError> {
        let replies = if self.polling {
            self.poll(count).await?
        } else {
            let options = StreamReadOptions::default()
                .block(block.as_millis() as usize)
                .count(count);
            let reply: Option<StreamReadReply> = redis::AsyncCommands::xread_options(
                &mut self.conn,
                &self.streams,
                &self.positions,
                &options,
            )
            .await?;
            reply.map(|r| r.keys).unwrap_or_default()
        };
        let mut out = Vec::new();
        for stream in replies {
            let Some(group) = self.streams.iter().position(|s| *s == stream.key) else {
                continue;
            };
            for entry in &stream.ids {
                self.positions[group].clone_from(&entry.id);
                match parse_entry(entry, None) {
                    Ok(message) => out.push(message),
                    Err(err) => tracing::warn!(error = %err, "skipping malformed progress entry"),
                }
            }
        }
        if self.polling && out.is_empty() {
            tokio::time::sleep(CLUSTER_POLL.min(block)).await;
        }
        Ok(out)
    }

    /// One non-blocking XREAD per group, sent together.
    async fn poll(&mut self, count: usize) -> Result<Vec<StreamKey>, BusError> {
        let reads: Vec<redis::Cmd> = self
            .streams
            .iter()
            .zip(&self.positions)
            .map(|(stream, position)| {
                let mut cmd = redis::cmd("XREAD");
                cmd.arg("COUNT")
                    .arg(count)
                    .arg("STREAMS")
                    .arg(stream)
                    .arg(position);
                cmd
            })
            .collect();
        let replies: Vec<Option<StreamReadReply>> = query_each(&self.conn, &reads).await?;
        Ok(replies
            .into_iter()
            .flatten()
            .flat_map(|reply| reply.keys)
            .collect())
    }
}
