// STUB
pub fn validate(
    _g: &str,
    _r: &str,
    _o: &serde_json::Value,
    _old: Option<&serde_json::Value>,
) -> Vec<crate::error::Cause> {
    vec![]
}
