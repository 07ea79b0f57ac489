//! The real kubectl binaries installed on the machine, run against a cluster started here.
//! Test code: failing loudly with kubectl's output is its job.
#![allow(clippy::panic, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a kubectl run printed.
#[derive(Debug)]
pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// A kubectl binary bound to a kubeconfig.
#[derive(Debug, Clone)]
pub struct Kubectl {
    bin: PathBuf,
    kubeconfig: PathBuf,
    /// Environment variables set for every run (e.g. `KUBE_EDITOR`).
    env: Vec<(String, String)>,
}

impl Kubectl {
    /// `/usr/bin/kubectl`, which picks the version matching the server's `/version`.
    pub fn new(kubeconfig: &Path) -> Self {
        Kubectl { bin: PathBuf::from("/usr/bin/kubectl"), kubeconfig: kubeconfig.to_path_buf(), env: Vec::new() }
    }

    /// A specific kubectl version installed beside it (`1.27` ... `1.33`).
    pub fn version(kubeconfig: &Path, version: &str) -> Self {
        Kubectl {
            bin: PathBuf::from(format!("/usr/lib/google-cloud-sdk/bin/kubectl.{version}")),
            kubeconfig: kubeconfig.to_path_buf(),
            env: Vec::new(),
        }
    }

    /// The same kubectl with `key=value` in its environment.
    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Runs kubectl with `args` (and `stdin` when given).
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        use std::io::Write;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--kubeconfig").arg(&self.kubeconfig).args(args).envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("failed to run {}: {e}", self.bin.display()));
        if let Some(mut input) = child.stdin.take() {
            if let Some(text) = stdin {
                let _ = input.write_all(text.as_bytes());
            }
        }
        let out = child.wait_with_output().unwrap_or_else(|e| panic!("kubectl did not finish: {e}"));
        Output {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs kubectl and answers stdout; panics with both streams when it fails.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args, None);
        assert!(out.success, "kubectl {args:?} failed:\nstdout: {}\nstderr: {}", out.stdout, out.stderr);
        out.stdout
    }

    /// Like `ok`, with a manifest on stdin (`-f -`).
    pub fn ok_stdin(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, Some(stdin));
        assert!(out.success, "kubectl {args:?} failed:\nstdout: {}\nstderr: {}", out.stdout, out.stderr);
        out.stdout
    }

    /// Runs kubectl expecting failure; answers stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args, None);
        assert!(!out.success, "kubectl {args:?} should have failed:\nstdout: {}", out.stdout);
        out.stderr
    }
}

/// The first line (header) of a table, split into its column names.
pub fn header(table: &str) -> Vec<String> {
    table.lines().next().unwrap_or("").split_whitespace().map(str::to_string).collect()
}

/// The rows of a table, each split on whitespace.
pub fn rows(table: &str) -> Vec<Vec<String>> {
    table.lines().skip(1).map(|l| l.split_whitespace().map(str::to_string).collect()).collect()
}
