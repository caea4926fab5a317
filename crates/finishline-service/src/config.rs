//! Flags shared by both binaries (each also readable from the environment, so `--help` lists
//! every variable).

use std::time::Duration;

use clap::{Args, ValueEnum};

/// The flags every finishline binary starts with: Redis, retention and logging, in that
/// order in `--help`. Each binary flattens it into its own `Config`.
#[derive(Debug, Clone, Args)]
pub struct ServiceArgs {
    #[command(flatten)]
    pub redis: RedisArgs,

    #[command(flatten)]
    pub retention: RetentionArgs,

    #[command(flatten)]
    pub log: LogArgs,
}

/// Where Redis is and which keys are ours.
#[derive(Debug, Clone, Args)]
pub struct RedisArgs {
    /// Redis URL, e.g. redis://127.0.0.1:6379/0 (a password goes in the URL and is never logged)
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,

    /// Prefix of every Redis key finishline uses; deployments sharing a Redis need distinct ones
    #[arg(long, env = "FINISHLINE_KEY_PREFIX", default_value = "finishline", value_parser = parse_prefix)]
    pub key_prefix: String,

    /// What a write must reach before it is acknowledged: `single` (the primary's memory; a
    /// failover can lose the last writes: a 202-accepted job may vanish, a finished job may
    /// run again) or `replicated` (the gateway answers 202 to an enqueue, and the worker ends a
    /// job, only once one replica has the write, `WAIT 1`; costs a replica round trip per
    /// write, and with no replica reachable enqueues answer 503 and jobs wait until one is back)
    #[arg(
        long,
        env = "FINISHLINE_DURABILITY",
        value_enum,
        default_value = "single"
    )]
    pub durability: DurabilityMode,

    /// With --durability replicated: how long a write waits for a replica before it counts as
    /// failed (enqueue answers 503, the worker retries)
    #[arg(long, env = "FINISHLINE_DURABILITY_TIMEOUT", default_value = "1s", value_parser = parse_duration)]
    pub durability_timeout: Duration,
}

/// `--durability`: see [`RedisArgs::durability`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DurabilityMode {
    /// Acknowledge once the primary has the write (Redis' default)
    Single,
    /// Acknowledge once one replica has it too (WAIT 1)
    Replicated,
}

impl RedisArgs {
    /// The URL with any password masked, for logs and error messages.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.redis_url)
    }

    /// The durability of acknowledged writes, for [`finishline_redis::RedisConn::with_durability`].
    pub fn durability(&self) -> finishline_redis::Durability {
        match self.durability {
            DurabilityMode::Single => finishline_redis::Durability::Single,
            DurabilityMode::Replicated => finishline_redis::Durability::Replicated {
                timeout: self.durability_timeout,
            },
        }
    }
}

fn parse_prefix(value: &str) -> Result<String, String> {
    finishline_wire_like_id(value)
        .then(|| value.to_owned())
        .ok_or_else(|| {
            "the key prefix must be 1-64 characters of letters, digits, '.', '_', ':', '-'"
                .to_owned()
        })
}

fn finishline_wire_like_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

/// Masks the password of a Redis URL (`redis://user:secret@host` → `redis://user:***@host`).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

/// How long finished jobs, progress history and counters are kept.
#[derive(Debug, Clone, Args)]
pub struct RetentionArgs {
    /// Time to keep job state, event counters and history after their last change (e.g. 24h, 30m)
    #[arg(long, env = "FINISHLINE_RETENTION", default_value = "24h", value_parser = parse_duration)]
    pub retention: Duration,

    /// Messages kept per event for replay to clients that reconnect with `since`
    #[arg(long, env = "FINISHLINE_HISTORY_MAX", default_value_t = 10_000)]
    pub history_max: u64,
}

impl RetentionArgs {
    /// The bus limits these flags set; the others keep their defaults.
    pub fn bus_limits(&self) -> finishline_redis::BusLimits {
        finishline_redis::BusLimits {
            history_max: self.history_max,
            retention: self.retention,
            ..finishline_redis::BusLimits::default()
        }
    }
}

/// Parses `500ms`, `30s`, `5m`, `24h` or a bare number of seconds.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{value:?} is not a duration like 500ms, 30s, 5m or 24h"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "" | "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number * 60),
        "h" => Duration::from_secs(number * 3600),
        _ => {
            return Err(format!(
                "{value:?}: unknown unit {unit:?} (use ms, s, m or h)"
            ));
        }
    };
    Ok(duration)
}

/// Log output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Logging flags.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Log format: pretty for people, json for log pipelines
    #[arg(
        long,
        env = "FINISHLINE_LOG_FORMAT",
        value_enum,
        default_value = "pretty"
    )]
    pub log_format: LogFormat,

    /// OTLP/HTTP endpoint for trace export, e.g. http://otel-collector:4318 (needs a build
    /// with the `otel` feature)
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,

    /// Log filter in tracing's EnvFilter syntax, e.g. info or finishline=debug,info
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log_filter: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("1d").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn durability_defaults_to_single_and_replicated_carries_its_timeout() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            redis: RedisArgs,
        }
        let cli = Cli::try_parse_from(["t", "--durability", "single"]).unwrap();
        assert_eq!(cli.redis.durability(), finishline_redis::Durability::Single);
        let cli = Cli::try_parse_from([
            "t",
            "--durability",
            "replicated",
            "--durability-timeout",
            "250ms",
        ])
        .unwrap();
        assert_eq!(
            cli.redis.durability(),
            finishline_redis::Durability::Replicated {
                timeout: Duration::from_millis(250)
            }
        );
        assert!(Cli::try_parse_from(["t", "--durability", "quorum"]).is_err());
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            redact_url("redis://:hunter2@cache:6379/0"),
            "redis://:***@cache:6379/0"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }
}
