//! The node lifecycle controller (being written).

use std::future::Future;

use crate::controller::Context;

/// The controller; runs when awaited.
pub fn controller(ctx: Context, grace: std::time::Duration) -> impl Future<Output = ()> {
    let _ = (ctx, grace);
    futures::future::pending()
}
