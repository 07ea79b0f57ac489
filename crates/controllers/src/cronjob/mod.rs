//! The CronJob controller (being written).

use std::future::Future;

use crate::controller::Context;

/// The controller; runs when awaited.
pub fn controller(ctx: Context) -> impl Future<Output = ()> {
    let _ = ctx;
    futures::future::pending()
}
