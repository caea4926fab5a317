//! Shared helpers of the end-to-end tests: a real `redis-server` per test, the real worker
//! and gateway binaries as processes, a real Socket.IO client, and generated photos and videos.

mod bus;
mod client;
mod http_source;
mod media;
mod process;
pub mod recognition;
mod redis_server;

pub use bus::{bus_writer, run_photo_job};
pub use client::{Received, SocketClient};
pub use http_source::PhotoServer;
pub use media::{
    photo_png_bytes, write_corrupt_jpeg, write_corrupt_video, write_photo, write_race_photos,
    write_test_pattern_video, write_video,
};
pub use process::{Gateway, Worker, binary, free_port, models_dir, unique_prefix, wait_until};
pub use redis_server::RedisServer;
