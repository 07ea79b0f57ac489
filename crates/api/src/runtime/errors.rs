//! Reading the API server's answers out of error chains.

/// Whether an error, or one of its sources, is a 409 Conflict answer: a write that carried an
/// older resourceVersion than the server's.
pub fn is_conflict(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(kube::Error::Api(status)) = e.downcast_ref::<kube::Error>() {
            if status.code == 409 {
                return true;
            }
        }
        current = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("wrapped: {0}")]
    struct Wrapped(#[source] kube::Error);

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(kube::core::Status::failure("no", "Conflict").with_code(code).boxed())
    }

    #[test]
    fn finds_a_conflict_anywhere_in_the_chain() {
        assert!(is_conflict(&Wrapped(api(409))));
        assert!(!is_conflict(&Wrapped(api(404))));
    }
}
