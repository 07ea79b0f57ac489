//! Command-line flags, named like kube-apiserver's where the meaning is the same.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;

/// nestor-apiserver: a Kubernetes-compatible API server over etcd.
#[derive(Debug, Clone, Parser)]
#[command(name = "nestor-apiserver", version, about)]
pub struct Args {
    /// etcd endpoints, comma separated (e.g. http://127.0.0.1:2379).
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:2379")]
    pub etcd_servers: Vec<String>,

    /// Prefix of every key in etcd, as kube-apiserver's `--etcd-prefix`.
    #[arg(long, default_value = "/registry")]
    pub etcd_prefix: String,

    /// Address to serve HTTPS on.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,

    /// Port to serve HTTPS on (0 picks a free one and logs it).
    #[arg(long, default_value_t = 6443)]
    pub secure_port: u16,

    /// Serving certificate (PEM); with `--tls-private-key-file`.
    #[arg(long)]
    pub tls_cert_file: Option<PathBuf>,

    /// Serving private key (PEM).
    #[arg(long)]
    pub tls_private_key_file: Option<PathBuf>,

    /// CA bundle that client certificates must chain to; enables x509 authentication.
    #[arg(long)]
    pub client_ca_file: Option<PathBuf>,

    /// Static tokens, kube-apiserver's CSV format: token,user,uid,"group1,group2".
    #[arg(long)]
    pub token_auth_file: Option<PathBuf>,

    /// Requests without credentials run as system:anonymous (true, kube-apiserver's default)
    /// or are answered 401 (false).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub anonymous_auth: bool,

    /// Authorizers, comma separated, as kube-apiserver takes them: `RBAC` (the default) and
    /// `AlwaysAllow`; `Node` is accepted and adds nothing (kubelets need RBAC bindings).
    #[arg(long, value_delimiter = ',', default_value = "RBAC")]
    pub authorization_mode: Vec<AuthorizationMode>,

    /// The `iss` of the service account tokens this server signs, and the only one it accepts.
    #[arg(long, default_value = crate::serviceaccount::DEFAULT_ISSUER)]
    pub service_account_issuer: String,

    /// PEM PKCS#8 ECDSA P-256 private key that signs service account tokens; without it one is
    /// created as `sa.key` in `--cert-dir`.
    #[arg(long)]
    pub service_account_signing_key_file: Option<PathBuf>,

    /// Audiences a token must name one of to authenticate here, comma separated (default: the
    /// issuer).
    #[arg(long, value_delimiter = ',')]
    pub api_audiences: Vec<String>,

    /// Range that Service cluster IPs are allocated from (kube-apiserver's default).
    #[arg(long, default_value = "10.0.0.0/24")]
    pub service_cluster_ip_range: String,

    /// Range that NodePorts are allocated from.
    #[arg(long, default_value = "30000-32767")]
    pub service_node_port_range: String,

    /// Where a self-signed serving certificate is written when none is given.
    #[arg(long, default_value = "/var/run/kubernetes")]
    pub cert_dir: PathBuf,

    /// Address advertised in the `kubernetes` Service's Endpoints (defaults to the bind address,
    /// or 127.0.0.1 when that is unspecified).
    #[arg(long)]
    pub advertise_address: Option<IpAddr>,

    /// Most non-long-running requests served at once; more get 429.
    #[arg(long, default_value_t = 400)]
    pub max_requests_inflight: usize,

    /// Most mutating requests served at once; more get 429.
    #[arg(long, default_value_t = 200)]
    pub max_mutating_requests_inflight: usize,

    /// Seconds a watch lasts at least when the client gives no timeout (kube-apiserver's
    /// `--min-request-timeout`); each watch gets a random length between this and twice it.
    #[arg(long, default_value_t = 1800)]
    pub min_request_timeout: u64,

    /// How long a non-watch request may take before it is answered 504 (kube-apiserver's
    /// `--request-timeout`): `60s`, `1m`, or seconds.
    #[arg(long, default_value = "1m0s", value_parser = nestor_api::duration::parse_flag)]
    pub request_timeout: std::time::Duration,

    /// How often etcd's history is compacted, as kube-apiserver's `--etcd-compaction-interval`
    /// (0 turns compaction off, for an etcd compacted by someone else).
    #[arg(long, default_value = "5m0s", value_parser = nestor_api::duration::parse_flag)]
    pub etcd_compaction_interval: std::time::Duration,

    #[command(flatten)]
    pub threads: nestor_api::runtime::ThreadArgs,

    #[command(flatten)]
    pub log: nestor_api::runtime::LogArgs,
}

/// One value of `--authorization-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthorizationMode {
    #[value(name = "RBAC")]
    Rbac,
    #[value(name = "AlwaysAllow")]
    AlwaysAllow,
    #[value(name = "Node")]
    Node,
}

impl Args {
    /// What the listed authorizers decide together: any AlwaysAllow allows everything, as in
    /// kube's union of authorizers.
    pub fn authorization_mode(&self) -> crate::rbac::Mode {
        if self.authorization_mode.contains(&AuthorizationMode::AlwaysAllow) {
            crate::rbac::Mode::AlwaysAllow
        } else {
            crate::rbac::Mode::Rbac
        }
    }
}
