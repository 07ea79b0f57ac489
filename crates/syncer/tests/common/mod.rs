//! The environment of the syncer's tests: a super cluster with simulated nodes, tenant
//! clusters registered as Running VirtualClusters, and the syncer, all real processes.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use anyhow::Result;
#[allow(unused_imports)]
pub use nestor_testkit::tenancy::metric_sum;
use nestor_testkit::tenancy::{self, http_get, Registered};
use nestor_testkit::{eventually, Cluster, Process};

pub struct Tenant {
    pub cluster: Cluster,
    pub registered: Registered,
}

pub struct Env {
    pub super_cluster: Cluster,
    pub tenants: Vec<Tenant>,
    pub nodesim: Process,
    pub syncer: Option<Process>,
    syncers_started: usize,
}

/// Patrol often, so tests see repairs soon; renew node leases often, so renewal is visible.
pub const SYNCER_FLAGS: &[&str] = &["--patrol-interval=3s", "--node-lease-interval=1s", "--lease-duration=4s"];

impl Env {
    /// Starts the super cluster, nodesim with three nodes, one cluster per tenant name
    /// (registered with the custom resources given), and a syncer.
    pub async fn start(tenants: &[(&str, &[&str])]) -> Result<Env> {
        let super_cluster = Cluster::start().await?;
        tenancy::install_crds(&super_cluster).await?;
        // Room for the flood tests: 3 x 500 pods.
        let nodesim = tenancy::spawn_nodesim(&super_cluster, 3, &["--max-pods=500"])?;
        let mut started = vec![];
        for (name, custom) in tenants {
            let cluster = Cluster::start().await?;
            let registered = tenancy::register(&super_cluster, &cluster, name, custom).await?;
            started.push(Tenant { cluster, registered });
        }
        let mut env = Env { super_cluster, tenants: started, nodesim, syncer: None, syncers_started: 0 };
        env.start_syncer()?;
        Ok(env)
    }

    pub fn start_syncer(&mut self) -> Result<()> {
        self.syncers_started += 1;
        let tag = self.syncers_started.to_string();
        self.syncer = Some(tenancy::spawn_syncer(&self.super_cluster, &tag, SYNCER_FLAGS)?);
        Ok(())
    }

    pub fn syncer_log(&self, n: usize) -> std::path::PathBuf {
        self.super_cluster.dir().join(format!("syncer-{n}.log"))
    }

    /// The text of the running syncer's `/metrics`.
    pub async fn metrics(&self) -> Result<String> {
        let addr = tenancy::logged_addr(&self.syncer_log(self.syncers_started), "serving metrics").await?;
        http_get(&addr, "/metrics").await
    }

    pub fn tenant(&self, name: &str) -> &Tenant {
        self.tenants.iter().find(|t| t.registered.name == name).expect("tenant")
    }
}

/// Waits up to a minute: pods go through two API servers, a scheduler and a simulated kubelet.
pub const SETTLE: Duration = Duration::from_secs(60);

pub async fn wait<T, F, Fut>(what: &str, f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually(SETTLE, what, f).await
}

/// Waits up to three minutes: for floods of a thousand pods in debug builds.
pub async fn wait_long<T, F, Fut>(what: &str, f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually(Duration::from_secs(180), what, f).await
}
