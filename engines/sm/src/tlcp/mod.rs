//! TLCP (GB/T 38636-2020), the Chinese dual-certificate TLS: a sans-I/O protocol core (bytes
//! in, bytes out, like rustls) and a thin tokio wrapper, exposed to tls-core as the `tlcp`
//! stack.
//!
//! - Wire format: [`codec`], [`message`], [`alert`], [`record`] (framing and limits) with
//!   [`cipher`] (record protection) and [`prf`] (key schedule), for the four [`suite`]s.
//! - Protocol: [`handshake`] (client and server state machines), [`session`] (resumption by
//!   session ID), [`conn`] (the connection driver), configured by [`config`].
//! - I/O: [`stream`] (tokio) and [`stack`] (tls-core's `TlsStack`).

pub mod alert;
pub mod cipher;
pub mod codec;
pub mod config;
pub mod conn;
pub mod error;
pub mod handshake;
pub mod message;
pub mod prf;
pub mod record;
pub mod session;
pub mod stack;
pub mod stream;
pub mod suite;
