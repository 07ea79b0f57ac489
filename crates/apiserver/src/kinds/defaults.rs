// STUB
pub fn apply(_g: &str, _r: &str, _o: &mut serde_json::Value) {}
