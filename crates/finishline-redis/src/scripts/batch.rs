//! `batch.lua` (with `bib_index.lua`): bus operations of many jobs of one event group in one
//! call — run starts, progress messages, job ends with their bib index step. Every key is of
//! the group's tag; the deliveries of the jobs it ends are settled after it answers
//! (`settle`).

use std::collections::HashSet;
use std::sync::LazyLock;

use finishline_wire::{JobState, MessageName, Stage};
use redis::Script;
use redis::aio::ConnectionLike;

use super::with_prelude;
use crate::call::Call;
use crate::{BusLimits, Error, EventKeys, JobKeys};

static SCRIPT: LazyLock<Script> = LazyLock::new(|| {
    with_prelude(concat!(
        include_str!("bib_index.lua"),
        "\n",
        include_str!("batch.lua")
    ))
});

/// What Redis decided about a run start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// The job is live; this run holds fencing token `run` and is attempt `attempt`.
    Run { run: u64, attempt: u32 },
    /// The job has ended (or is unknown): nothing to do.
    Ended,
    /// The job is not of the event named with it: nothing was written.
    WrongEvent,
}

/// What Redis did with a progress message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Stored with this `seq`.
    Seq(u64),
    /// Dropped: the job has ended (or is unknown).
    Ended,
    /// Dropped: a newer run owns the job.
    Superseded,
    /// Dropped: the job is not of the event named with it.
    WrongEvent,
}

/// What Redis did with a job end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// This call ended the job: counted, published, `event:progress` (and `event:completed`
    /// when the event drained) followed.
    Now,
    /// The job had ended already (or is unknown): nothing changed.
    Already,
    /// A newer run owns the job: nothing changed.
    Superseded,
    /// The job is not of the event named with it: nothing changed.
    WrongEvent,
}

/// The answer to one operation that has one (starts, progress messages, job ends), in the
/// order they were added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Start(Started),
    Progress(Published),
    Finish(Ended),
}

/// A progress message of a run.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub run: u64,
    pub name: MessageName,
    /// The body as a JSON object, without the common fields (the script adds them).
    pub body: &'a str,
    pub ts: &'a str,
    pub stage: Stage,
    pub progress: u8,
}

/// The end of a job.
#[derive(Debug, Clone)]
pub struct End<'a> {
    /// The run ending it; 0 ends it whatever runs (cancellation).
    pub run: u64,
    pub state: JobState,
    pub name: MessageName,
    /// The body as a JSON object, without the common fields.
    pub body: &'a str,
    pub ts: &'a str,
    /// JSON kept as the job's result (succeeded jobs), or empty.
    pub result: &'a str,
    /// The error kept on the job, or empty.
    pub error: &'a str,
}

/// What a job that succeeds adds to its event's bib index (`bib_index.lua`): the event's
/// three index keys ([`crate::Keys::bib_index`]) and the sightings, each a number, its kind
/// (`p` photo, `v` video) and the sighting's JSON. Any end of the job renews the index's TTL.
#[derive(Debug, Clone, Copy)]
pub struct BibStep<'a> {
    pub keys: &'a [String; 3],
    pub sightings: &'a [(u64, &'static str, String)],
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    Start,
    Progress,
    Finish,
}

/// One call of `batch.lua` being built, for one event group. Operations run in the order
/// added.
pub struct Batch {
    call: Call,
    group: Option<u16>,
    declared: HashSet<String>,
    expect: Vec<Expect>,
    ops: usize,
}

impl Batch {
    pub fn new(limits: &BusLimits) -> Self {
        let mut call = Call::new(&SCRIPT);
        call.arg(limits.history_max)
            .arg(limits.stream_max)
            .arg(limits.ttl_secs());
        Self {
            call,
            group: None,
            declared: HashSet::new(),
            expect: Vec::new(),
            ops: 0,
        }
    }

    /// The event group of the batch's keys, once an operation was added.
    pub fn group(&self) -> Option<u16> {
        self.group
    }

    /// Declares an event's keys once per call.
    fn declare(&mut self, event: &EventKeys) {
        debug_assert!(
            self.group.is_none_or(|g| g == event.group),
            "one batch per event group"
        );
        self.group = Some(event.group);
        if self.declared.contains(event.id.as_str()) {
            return;
        }
        let kev = self
            .call
            .keys(&[&event.event, &event.history, &event.settings]);
        let kstream = self.call.key(&event.stream);
        let kfailed = self.call.key(&event.failed);
        self.call
            .arg("E")
            .arg(event.id.as_str())
            .arg(kev)
            .arg(kstream)
            .arg(kfailed);
        self.declared.insert(event.id.as_str().to_owned());
    }

    /// Opens an operation `code` on `job` of `event`: declares the event, passes the job's
    /// keys, adds the head every operation starts with (code, job id, the job's keys, event
    /// id) and counts it; the caller adds the operation's own arguments.
    fn op(&mut self, code: &str, event: &EventKeys, job: &JobKeys, expect: Expect) -> &mut Call {
        self.declare(event);
        let kjob = self.call.keys(&[&job.job, &job.history]);
        self.expect.push(expect);
        self.ops += 1;
        self.call
            .arg(code)
            .arg(job.id.as_str())
            .arg(kjob)
            .arg(event.id.as_str())
    }

    /// Starts a run of `job` (of `event`): marks it running, opens a new run (fencing
    /// token) and publishes `job:started`.
    pub fn start(&mut self, event: &EventKeys, job: &JobKeys, ts: &str) {
        self.op("S", event, job, Expect::Start).arg(ts);
    }

    /// Publishes a progress message of run `step.run` of `job`.
    pub fn progress(&mut self, event: &EventKeys, job: &JobKeys, step: &Step<'_>) {
        self.op("P", event, job, Expect::Progress)
            .arg(step.run)
            .arg(step.name.as_str())
            .arg(step.body)
            .arg(step.ts)
            .arg(step.stage.as_str())
            .arg(step.progress);
    }

    /// Ends `job` exactly once and, when this call ends the job as succeeded, indexes
    /// `index`'s sightings.
    pub fn finish(
        &mut self,
        event: &EventKeys,
        job: &JobKeys,
        end: &End<'_>,
        index: Option<BibStep<'_>>,
    ) {
        self.op("F", event, job, Expect::Finish)
            .arg(end.run)
            .arg(end.state.as_str())
            .arg(end.name.as_str())
            .arg(end.body)
            .arg(end.ts)
            .arg(end.result)
            .arg(end.error);
        match index {
            Some(index) => {
                let keys: Vec<&str> = index.keys.iter().map(String::as_str).collect();
                let kbib = self.call.keys(&keys);
                self.call.arg(kbib).arg(index.sightings.len());
                for (number, kind, json) in index.sightings {
                    self.call.arg(*number).arg(*kind).arg(json);
                }
            }
            None => {
                self.call.arg(0).arg(0);
            }
        }
    }

    /// How many operations were added.
    pub fn len(&self) -> usize {
        self.ops
    }

    pub fn is_empty(&self) -> bool {
        self.ops == 0
    }

    /// Every key the call passes, in KEYS order.
    pub fn keys(&self) -> &[String] {
        self.call.passed_keys()
    }

    /// Runs the batch; returns the answers of its starts, progress messages and job ends, in
    /// the order they were added.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached (the batch may then have run or not), or answers
    /// fewer results than operations.
    pub async fn run<C: ConnectionLike + Send>(self, conn: &mut C) -> Result<Vec<Reply>, Error> {
        if self.ops == 0 {
            return Ok(Vec::new());
        }
        let results: Vec<i64> = self.call.invoke(conn).await?;
        decode(&self.expect, &results)
    }
}

fn decode(expect: &[Expect], results: &[i64]) -> Result<Vec<Reply>, Error> {
    let mut results = results.iter().copied();
    let mut next = || {
        results.next().ok_or_else(|| {
            Error::Malformed("bus batch answered fewer results than operations".to_owned())
        })
    };
    expect
        .iter()
        .map(|expect| {
            Ok(match expect {
                Expect::Start => {
                    let (run, attempt) = (next()?, next()?);
                    Reply::Start(match run {
                        -3 => Started::WrongEvent,
                        run if run <= 0 => Started::Ended,
                        run => Started::Run {
                            run: run as u64,
                            attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
                        },
                    })
                }
                Expect::Progress => Reply::Progress(match next()? {
                    -1 => Published::Ended,
                    -2 => Published::Superseded,
                    -3 => Published::WrongEvent,
                    seq if seq > 0 => Published::Seq(seq as u64),
                    other => {
                        return Err(Error::Malformed(format!("progress answered {other}")));
                    }
                }),
                Expect::Finish => Reply::Finish(match next()? {
                    1 => Ended::Now,
                    0 => Ended::Already,
                    -2 => Ended::Superseded,
                    -3 => Ended::WrongEvent,
                    other => return Err(Error::Malformed(format!("job end answered {other}"))),
                }),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_decode_in_operation_order() {
        let expect = [
            Expect::Start,
            Expect::Progress,
            Expect::Finish,
            Expect::Start,
        ];
        let replies = decode(&expect, &[3, 2, 17, 1, 0, 0]).unwrap();
        assert_eq!(
            replies,
            [
                Reply::Start(Started::Run { run: 3, attempt: 2 }),
                Reply::Progress(Published::Seq(17)),
                Reply::Finish(Ended::Now),
                Reply::Start(Started::Ended),
            ]
        );
        assert!(decode(&expect, &[3, 2, 17]).is_err());
    }
}
