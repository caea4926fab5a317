//! Tailing the global progress stream: the gateway's side of the bus.

use std::sync::Arc;
use std::time::Duration;

use finishline_redis::RedisConn;
use finishline_wire::MessageName;
use redis::streams::{StreamId, StreamReadOptions, StreamReadReply};

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

/// A cursor on the global progress stream. It remembers its position, so after a Redis error
/// the next `next_batch` resumes exactly where the last one ended: no gap, no duplicate.
pub struct StreamTail {
    conn: RedisConn,
    key: String,
    last_id: String,
}

impl StreamTail {
    /// Opens a tail that starts after the newest message present now.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn from_now(mut conn: RedisConn, keys: &Keys) -> Result<Self, BusError> {
        let key = keys.progress_stream();
        let newest: redis::streams::StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(&key)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await?;
        let last_id = newest
            .ids
            .first()
            .map(|e| e.id.clone())
            .unwrap_or_else(|| "0-0".to_owned());
        Ok(Self { conn, key, last_id })
    }

    /// The id of the last entry read.
    pub fn position(&self) -> &str {
        &self.last_id
    }

    /// Waits up to `block` for new messages and returns at most `count` of them, in order.
    /// Malformed entries are skipped with a warning, never relayed.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached; the position is kept.
    pub async fn next_batch(
        &mut self,
        block: Duration,
        count: usize,
    ) -> Result<Vec<StreamMessage>, BusError> {
        let options = StreamReadOptions::default()
            .block(block.as_millis() as usize)
            .count(count);
        let reply: Option<StreamReadReply> = redis::AsyncCommands::xread_options(
            &mut self.conn,
            &[&self.key],
            &[&self.last_id],
            &options,
        )
        .await?;
        let mut out = Vec::new();
        for stream in reply.map(|r| r.keys).unwrap_or_default() {
            for entry in &stream.ids {
                self.last_id.clone_from(&entry.id);
                match parse_entry(entry, None) {
                    Ok(message) => out.push(message),
                    Err(err) => tracing::warn!(error = %err, "skipping malformed progress entry"),
                }
            }
        }
        Ok(out)
    }
}
