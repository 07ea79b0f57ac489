//! Events about VirtualClusters (`source.component` `nestor-manager`), so `kubectl describe vc`
//! shows them, through the recorder every Nestor process shares.

pub use nestor_api::runtime::events::{record, About, Type};

use crate::COMPONENT;

/// What the manager's events are about.
pub const ABOUT: About<'static> =
    About { component: COMPONENT, kind: "VirtualCluster", api_version: "tenancy.nestor.dev/v1alpha1" };
