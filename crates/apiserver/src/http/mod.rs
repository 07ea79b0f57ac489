//! The HTTP layer: TLS listener, request parsing, authentication, authorization,
//! negotiation, discovery, metrics and the resource handlers.

pub mod authn;
pub mod authz;
pub mod discovery;
pub mod handler;
pub mod impersonation;
pub mod metrics;
pub mod negotiate;
pub mod openapi;
pub mod protobuf;
pub mod request_info;
pub mod server;
pub mod table;
pub mod tls;
