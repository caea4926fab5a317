//! End-to-end tests: real redis-server, real worker and gateway processes, real Socket.IO
//! clients (Rust and the official JS client).

mod apalis_producer;
mod artifacts_s3;
mod auth;
mod bib_index;
mod browser;
mod bus_counts;
mod cluster;
mod enqueue_repair;
mod event_settings;
mod hostile;
mod js_client;
mod native_ws;
mod operations;
mod owners;
mod photo_flow;
mod recognition;
mod reliability;
mod replay;
mod seeds;
mod sentinel;
mod two_gateways;
mod video_flow;
