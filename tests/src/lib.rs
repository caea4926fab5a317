//! Shared helpers of the end-to-end tests: a real `redis-server` per test, the real worker
//! and gateway binaries as processes on port 0, a real Socket.IO client, generated photos and
//! videos, and the [`Rig`] that starts them together.

mod auth;
mod bus;
mod client;
mod gateway;
mod http_source;
mod media;
mod media_dir;
mod process;
pub mod recognition;
mod redis_cluster;
mod redis_server;
mod redis_topology;
mod rig;
pub mod s3_server;
mod worker;

pub use auth::{JWT_SECRET, token};
pub use bus::{bus_writer, run_photo_job};
pub use client::{Received, SocketClient};
pub use gateway::Gateway;
pub use http_source::PhotoServer;
pub use media::{
    photo_png_bytes, protocol_color_names, write_corrupt_jpeg, write_corrupt_video, write_photo,
    write_race_photos, write_runners_video, write_test_pattern_video, write_video,
};
pub use media_dir::{MediaDir, media_dir};
pub use process::{binary, free_port, models_dir, unique_prefix, wait_until};
pub use redis_cluster::RedisCluster;
pub use redis_server::RedisServer;
pub use redis_topology::{MASTER_NAME, RedisProcess, SentinelTopology};
pub use rig::{Rig, RigBuilder};
pub use worker::Worker;
