//! Command-line flags, named like kube-apiserver's where the meaning is the same.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, ValueEnum};

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
    #[arg(long, default_value = "1m0s", value_parser = parse_duration)]
    pub request_timeout: std::time::Duration,

    #[command(flatten)]
    pub log: LogArgs,
}

/// Logging flags shared by every Nestor binary.
#[derive(Debug, Clone, ClapArgs)]
pub struct LogArgs {
    /// Log level or tracing filter (e.g. `info`, `debug`, `nestor_apiserver=debug`).
    #[arg(long, default_value = "info", env = "NESTOR_LOG")]
    pub log_level: String,

    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Plain)]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Plain,
    Json,
}

impl LogArgs {
    /// Installs the global tracing subscriber.
    pub fn init(&self) {
        let filter = tracing_subscriber::EnvFilter::try_new(&self.log_level)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        // Colours only on a terminal: logs written to files stay plain text.
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
        let _ = match self.log_format {
            LogFormat::Plain => builder.try_init(),
            LogFormat::Json => builder.json().try_init(),
        };
    }
}

/// Parses Go-style durations as kube's flags take them: `90s`, `1m`, `1m30s`, `500ms`, or bare seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(secs));
    }
    let mut total = std::time::Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail.find(|c: char| c.is_ascii_digit()).unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let n: f64 = number.parse().map_err(|_| format!("invalid duration {text:?}"))?;
        let scale = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(format!("invalid duration {text:?}: unknown unit {unit:?}")),
        };
        total += std::time::Duration::from_secs_f64(n * scale);
        rest = next;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("1m0s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("5x").is_err());
    }
}
