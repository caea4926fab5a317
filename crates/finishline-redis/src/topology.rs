//! Which Redis deployment a URL names: one server (`redis://`, `rediss://`), a primary found
//! through Sentinel (`redis+sentinel://`) or a Cluster (`redis+cluster://`). Parsed once at
//! start-up, so a typo is a clear error before anything connects.

use std::fmt;

/// A Redis deployment, as parsed from a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// One server (or a managed endpoint that fails over on its own): the URL as given, for
    /// redis-rs to parse (`redis://`, `rediss://`, `redis+unix://`, `unix://`).
    Standalone { url: String },
    /// A primary named `master` watched by `sentinels`; the primary's address is asked of them
    /// at connect time and again after the connection breaks.
    Sentinel {
        sentinels: Vec<Node>,
        master: String,
        /// Database of the primary (`/<master>/<db>`), 0 by default.
        db: i64,
        /// Credentials of the primary and its replicas (the sentinels are asked without).
        auth: Auth,
    },
    /// A Redis Cluster, discovered from any of `nodes`.
    Cluster { nodes: Vec<Node>, auth: Auth },
}

/// A `host:port` of a sentinel or a cluster node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub host: String,
    pub port: u16,
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Username and password from the URL's userinfo, if any.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Auth {
    pub username: Option<String>,
    pub password: Option<String>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// What is wrong with a Redis URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopologyError {
    #[error(
        "unknown Redis URL scheme {0:?}: use redis:// or rediss:// (one server), \
         redis+sentinel://host:port[,host:port...]/<master-name> or \
         redis+cluster://host:port[,host:port...]"
    )]
    UnknownScheme(String),
    #[error("the Redis URL has no scheme: write it as redis://host:port")]
    NoScheme,
    #[error("{scheme}:// names no host: list at least one host:port")]
    NoHosts { scheme: &'static str },
    #[error("{scheme}:// has an empty host in {list:?} (a stray comma?)")]
    EmptyHost { scheme: &'static str, list: String },
    #[error("bad port {port:?} in {node:?}: a port is a number from 1 to 65535")]
    BadPort { node: String, port: String },
    #[error(
        "redis+sentinel:// names no master: end the URL with /<master-name>, the name the \
         sentinels monitor (`sentinel monitor <master-name> ...`)"
    )]
    MissingMaster,
    #[error("bad database {0:?} after the master name: a database is a number, e.g. /mymaster/0")]
    BadDatabase(String),
    #[error("redis+cluster:// takes no path ({0:?}): a cluster has one database")]
    ClusterPath(String),
}

const SENTINEL_PORT: u16 = 26379;
const REDIS_PORT: u16 = 6379;

impl Topology {
    /// Parses a Redis URL.
    ///
    /// # Errors
    /// Names what is wrong: an unknown scheme, no hosts, a bad port, a sentinel URL without
    /// its master name.
    pub fn parse(url: &str) -> Result<Self, TopologyError> {
        let url = url.trim();
        let (scheme, rest) = url.split_once("://").ok_or(TopologyError::NoScheme)?;
        match scheme.to_ascii_lowercase().as_str() {
            "redis" | "rediss" | "redis+unix" | "unix" => Ok(Self::Standalone {
                url: url.to_owned(),
            }),
            "redis+sentinel" => parse_sentinel(rest),
            "redis+cluster" => parse_cluster(rest),
            _ => Err(TopologyError::UnknownScheme(scheme.to_owned())),
        }
    }

    /// A short name for logs: `standalone`, `sentinel`, `cluster`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Standalone { .. } => "standalone",
            Self::Sentinel { .. } => "sentinel",
            Self::Cluster { .. } => "cluster",
        }
    }
}

fn parse_sentinel(rest: &str) -> Result<Topology, TopologyError> {
    const SCHEME: &str = "redis+sentinel";
    let (auth, rest) = split_auth(rest);
    let (hosts, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.split(['?', '#']).next().unwrap_or("");
    let sentinels = parse_nodes(SCHEME, hosts, SENTINEL_PORT)?;
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let master = parts.next().ok_or(TopologyError::MissingMaster)?.to_owned();
    let db = match parts.next() {
        None => 0,
        Some(db) => db
            .parse()
            .map_err(|_| TopologyError::BadDatabase(db.to_owned()))?,
    };
    Ok(Topology::Sentinel {
        sentinels,
        master,
        db,
        auth,
    })
}

fn parse_cluster(rest: &str) -> Result<Topology, TopologyError> {
    const SCHEME: &str = "redis+cluster";
    let (auth, rest) = split_auth(rest);
    let (hosts, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.split(['?', '#']).next().unwrap_or("");
    if !path.is_empty() && path != "0" {
        return Err(TopologyError::ClusterPath(path.to_owned()));
    }
    let nodes = parse_nodes(SCHEME, hosts, REDIS_PORT)?;
    Ok(Topology::Cluster { nodes, auth })
}

/// Splits `user:pass@hosts...` into its credentials and the rest.
fn split_auth(rest: &str) -> (Auth, &str) {
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return (Auth::default(), rest);
    };
    let (userinfo, rest) = (&rest[..at], &rest[at + 1..]);
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    let auth = Auth {
        username: (!user.is_empty()).then(|| user.to_owned()),
        password: password.filter(|p| !p.is_empty()).map(str::to_owned),
    };
    (auth, rest)
}

fn parse_nodes(
    scheme: &'static str,
    hosts: &str,
    default_port: u16,
) -> Result<Vec<Node>, TopologyError> {
    if hosts.trim().is_empty() {
        return Err(TopologyError::NoHosts { scheme });
    }
    hosts
        .split(',')
        .map(|node| parse_node(scheme, hosts, node.trim(), default_port))
        .collect()
}

fn parse_node(
    scheme: &'static str,
    list: &str,
    node: &str,
    default_port: u16,
) -> Result<Node, TopologyError> {
    let (host, port) = if let Some(bracketed) = node.strip_prefix('[') {
        // [v6-address]:port
        match bracketed.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, port)) => (host, Some(port.strip_prefix(':').unwrap_or(port))),
            None => (node, None),
        }
    } else {
        match node.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (node, None),
        }
    };
    if host.is_empty() {
        return Err(TopologyError::EmptyHost {
            scheme,
            list: list.to_owned(),
        });
    }
    let port = match port {
        None => default_port,
        Some(port) => port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| TopologyError::BadPort {
                node: node.to_owned(),
                port: port.to_owned(),
            })?,
    };
    Ok(Node {
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(host: &str, port: u16) -> Node {
        Node {
            host: host.to_owned(),
            port,
        }
    }

    #[test]
    fn standalone_urls_pass_through() {
        for url in [
            "redis://127.0.0.1:6379/0",
            "rediss://:pw@cache.example:6380",
        ] {
            assert_eq!(
                Topology::parse(url),
                Ok(Topology::Standalone {
                    url: url.to_owned()
                })
            );
        }
    }

    #[test]
    fn sentinel_urls_name_their_sentinels_master_and_db() {
        let parsed = Topology::parse("redis+sentinel://:secret@a:26380,b,[::1]:26381/mymaster/2");
        assert_eq!(
            parsed,
            Ok(Topology::Sentinel {
                sentinels: vec![node("a", 26380), node("b", 26379), node("::1", 26381)],
                master: "mymaster".to_owned(),
                db: 2,
                auth: Auth {
                    username: None,
                    password: Some("secret".to_owned())
                },
            })
        );
        assert_eq!(node("::1", 1).to_string(), "[::1]:1");
    }

    #[test]
    fn cluster_urls_list_their_seed_nodes() {
        assert_eq!(
            Topology::parse("redis+cluster://user:pw@10.0.0.1:7000,10.0.0.2:7001"),
            Ok(Topology::Cluster {
                nodes: vec![node("10.0.0.1", 7000), node("10.0.0.2", 7001)],
                auth: Auth {
                    username: Some("user".to_owned()),
                    password: Some("pw".to_owned())
                },
            })
        );
        assert_eq!(
            Topology::parse("redis+cluster://h/3"),
            Err(TopologyError::ClusterPath("3".to_owned()))
        );
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let err = |url: &str| Topology::parse(url).unwrap_err();
        assert!(matches!(err("http://x"), TopologyError::UnknownScheme(s) if s == "http"));
        assert_eq!(err("localhost:6379"), TopologyError::NoScheme);
        assert_eq!(err("redis+sentinel://a:1"), TopologyError::MissingMaster);
        assert_eq!(err("redis+sentinel://a:1/"), TopologyError::MissingMaster);
        assert!(matches!(
            err("redis+sentinel:///mymaster"),
            TopologyError::NoHosts { .. }
        ));
        assert!(matches!(
            err("redis+cluster://"),
            TopologyError::NoHosts { .. }
        ));
        assert!(matches!(
            err("redis+cluster://a:1,,b:2"),
            TopologyError::EmptyHost { .. }
        ));
        for bad in ["a:http", "a:0", "a:70000", "a:"] {
            assert!(
                matches!(
                    err(&format!("redis+cluster://{bad}")),
                    TopologyError::BadPort { .. }
                ),
                "{bad}"
            );
        }
        assert_eq!(
            err("redis+sentinel://a/m/x"),
            TopologyError::BadDatabase("x".to_owned())
        );
        let message = err("redis+sentinel://a:26379").to_string();
        assert!(message.contains("master-name"), "{message}");
        let message = err("redis+cluster://a:port").to_string();
        assert!(message.contains("\"port\""), "{message}");
    }

    #[test]
    fn passwords_stay_out_of_debug_output() {
        let parsed = Topology::parse("redis+cluster://:hunter2@a:1").unwrap();
        assert!(!format!("{parsed:?}").contains("hunter2"));
    }
}
