//! The API client of every Nestor process: kube's client stack over a connector that offers
//! HTTP/2 as well as HTTP/1.1 (ALPN decides), as client-go does. kube-client's own connector
//! speaks HTTP/1.1 only, so each watch holds a TLS connection of its own, with a read buffer
//! that keeps the size of the largest response it ever carried. Over HTTP/2 a process has one
//! connection per server, whatever it watches: the syncer had about 15 per tenant.

use std::time::Duration;

use anyhow::Context;
use hyper_rustls::{FixedServerNameResolver, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use kube::client::retry::RetryPolicy;
use kube::client::ConfigExt;
use tower::retry::RetryLayer;
use tower::ServiceBuilder;

/// How often an HTTP/2 connection is pinged, and how long an answer may take, so that a dead
/// connection (and every watch on it) is noticed; client-go's `ReadIdleTimeout` is 30 s and its
/// `PingTimeout` 15 s.
const PING_EVERY: Duration = Duration::from_secs(30);
const PING_TIMEOUT: Duration = Duration::from_secs(15);

/// A client for `config` that multiplexes its requests and watches over one HTTP/2 connection
/// when the server offers HTTP/2.
pub fn from_config(config: kube::Config) -> anyhow::Result<kube::Client> {
    // kube-client without its proxy features refuses a kubeconfig's proxy-url too; connecting
    // around the proxy instead would be a surprise.
    if let Some(proxy) = &config.proxy_url {
        anyhow::bail!("the kubeconfig's proxy-url {proxy} is not supported");
    }
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(config.connect_timeout);
    let tls = config.rustls_client_config().context("building the TLS configuration")?;
    let mut https = HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http();
    if let Some(name) = &config.tls_server_name {
        let name = name.clone().try_into().with_context(|| format!("invalid tls-server-name {name:?}"))?;
        https = https.with_server_name_resolver(FixedServerNameResolver::new(name));
    }
    let connector = https.enable_all_versions().wrap_connector(http);
    let transport = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .http2_keep_alive_interval(PING_EVERY)
        .http2_keep_alive_timeout(PING_TIMEOUT)
        .build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.default_retry.then(|| RetryLayer::new(RetryPolicy::server_retry())))
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(transport);
    Ok(kube::Client::new(service, config.default_namespace))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_proxy_url_is_refused_not_bypassed() {
        let mut config = kube::Config::new("https://127.0.0.1:6443".parse().unwrap());
        config.proxy_url = Some("http://proxy.example:3128".parse().unwrap());
        let Err(err) = super::from_config(config) else { panic!("a proxy must not be bypassed") };
        assert!(err.to_string().contains("proxy-url"), "{err}");
    }
}
