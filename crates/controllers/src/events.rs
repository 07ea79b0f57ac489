//! Events as kube-controller-manager records them: the recorder every Nestor process shares.

pub use nestor_api::runtime::events::{record, About, Type};
