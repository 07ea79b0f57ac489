//! maxSurge and maxUnavailable as numbers of pods: percentages of `spec.replicas`, surge
//! rounded up and unavailable rounded down, and never both zero (kube's `ResolveFenceposts`).

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// A value that is neither an integer nor `<integer>%`.
#[derive(Debug, thiserror::Error)]
#[error("invalid value for IntOrString: invalid type: string is not a percentage: {0:?}")]
pub struct InvalidValue(String);

/// `value` scaled against `total`: an integer as is, a percentage rounded up or down.
pub fn scaled(value: &IntOrString, total: i32, round_up: bool) -> Result<i32, InvalidValue> {
    match value {
        IntOrString::Int(n) => Ok(*n),
        IntOrString::String(s) => {
            let percent: i64 =
                s.strip_suffix('%').and_then(|p| p.parse().ok()).ok_or_else(|| InvalidValue(s.clone()))?;
            let product = percent * i64::from(total);
            let v = if round_up { (product + 99).div_euclid(100) } else { product.div_euclid(100) };
            Ok(i32::try_from(v).unwrap_or(i32::MAX))
        }
    }
}

/// (surge, unavailable) for `desired` replicas; unavailable is 1 when both would be 0, or a
/// rollout could never start.
pub fn resolve(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> Result<(i32, i32), InvalidValue> {
    let zero = IntOrString::Int(0);
    let surge = scaled(max_surge.unwrap_or(&zero), desired, true)?;
    let mut unavailable = scaled(max_unavailable.unwrap_or(&zero), desired, false)?;
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Ok((surge, unavailable))
}

/// The Deployment's `spec.replicas` (defaulted to 1).
pub fn replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// Whether the Deployment rolls (RollingUpdate, the default) rather than recreates.
pub fn is_rolling(d: &Deployment) -> bool {
    d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.type_.as_deref()).unwrap_or("RollingUpdate")
        == "RollingUpdate"
}

fn rolling_params(d: &Deployment) -> (Option<IntOrString>, Option<IntOrString>) {
    let ru = d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.rolling_update.as_ref());
    // The API server defaults both to 25%; a stored object without them gets the same.
    let default = || Some(IntOrString::String("25%".into()));
    (ru.map_or_else(default, |r| r.max_surge.clone()), ru.map_or_else(default, |r| r.max_unavailable.clone()))
}

/// Pods above `spec.replicas` a rollout may create (0 for Recreate).
pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling(d) {
        return 0;
    }
    let (surge, unavailable) = rolling_params(d);
    resolve(surge.as_ref(), unavailable.as_ref(), replicas(d)).map_or(0, |(s, _)| s)
}

/// Pods below `spec.replicas` a rollout may leave unavailable (0 for Recreate).
pub fn max_unavailable(d: &Deployment) -> i32 {
    let desired = replicas(d);
    if !is_rolling(d) || desired == 0 {
        return 0;
    }
    let (surge, unavailable) = rolling_params(d);
    resolve(surge.as_ref(), unavailable.as_ref(), desired).map_or(0, |(_, u)| u.min(desired))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> IntOrString {
        IntOrString::String(v.into())
    }

    #[test]
    fn percentages_round_as_kube() {
        assert_eq!(scaled(&s("25%"), 10, true).ok(), Some(3));
        assert_eq!(scaled(&s("25%"), 10, false).ok(), Some(2));
        assert_eq!(scaled(&s("25%"), 3, true).ok(), Some(1));
        assert_eq!(scaled(&s("25%"), 3, false).ok(), Some(0));
        assert_eq!(scaled(&s("100%"), 7, false).ok(), Some(7));
        assert_eq!(scaled(&IntOrString::Int(4), 10, false).ok(), Some(4));
        assert!(scaled(&s("25"), 10, true).is_err());
        assert!(scaled(&s("x%"), 10, true).is_err());
    }

    #[test]
    fn fenceposts() {
        // 3 replicas with the defaults: surge 1, unavailable 0.
        assert_eq!(resolve(Some(&s("25%")), Some(&s("25%")), 3).ok(), Some((1, 0)));
        // Both zero: unavailable becomes 1.
        assert_eq!(resolve(Some(&IntOrString::Int(0)), Some(&s("10%")), 5).ok(), Some((0, 1)));
        assert_eq!(resolve(Some(&s("50%")), Some(&IntOrString::Int(2)), 4).ok(), Some((2, 2)));
        assert_eq!(resolve(None, None, 0).ok(), Some((0, 1)));
    }
}
