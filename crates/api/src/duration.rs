//! Go durations (`time.ParseDuration`): the format of the `nestor.dev/sim-*` annotations and of
//! Nestor's interval flags, so users write `1.5s`, `300ms` or `2m30s` as they would for kube.

use std::time::Duration;

/// Why a text is not a Go duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseDurationError {
    #[error("empty duration")]
    Empty,
    #[error("invalid duration {0:?}")]
    Invalid(String),
    #[error("missing unit in duration {0:?}")]
    MissingUnit(String),
    #[error("unknown unit {unit:?} in duration {text:?}")]
    UnknownUnit { unit: String, text: String },
    #[error("negative duration {0:?}")]
    Negative(String),
    #[error("duration {0:?} is too large")]
    Overflow(String),
}

/// Nanoseconds per unit, as Go spells the units.
fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Parses a Go duration such as `1.5s`, `300ms`, `2m30s` or `0`. Negative durations are
/// refused: no Nestor setting runs backwards.
pub fn parse(text: &str) -> Result<Duration, ParseDurationError> {
    let invalid = || ParseDurationError::Invalid(text.to_string());
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(ParseDurationError::Empty);
    }
    if let Some(r) = rest.strip_prefix('-') {
        // Go accepts "-0"; anything else negative is an error for us.
        return if r.chars().all(|c| c == '0') && !r.is_empty() {
            Ok(Duration::ZERO)
        } else {
            Err(ParseDurationError::Negative(text.to_string()))
        };
    }
    rest = rest.strip_prefix('+').unwrap_or(rest);
    // Go: the special case "0" needs no unit.
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(a) => {
                let n = a.find(|c: char| !c.is_ascii_digit()).unwrap_or(a.len());
                a.split_at(n)
            }
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(ParseDurationError::MissingUnit(text.to_string()));
        }
        let scale = unit_nanos(unit)
            .ok_or_else(|| ParseDurationError::UnknownUnit { unit: unit.to_string(), text: text.to_string() })?;
        let overflow = || ParseDurationError::Overflow(text.to_string());
        let int: u128 = if int_part.is_empty() { 0 } else { int_part.parse().map_err(|_| overflow())? };
        let mut nanos = int.checked_mul(scale).ok_or_else(overflow)?;
        // The fraction: digits beyond nanosecond precision are dropped, as Go does.
        let mut place = scale;
        for d in frac_part.chars() {
            place /= 10;
            if place == 0 {
                break;
            }
            nanos += u128::from(d.to_digit(10).unwrap_or(0)) * place;
        }
        total = total.checked_add(nanos).ok_or_else(overflow)?;
        rest = after;
    }
    let secs = u64::try_from(total / 1_000_000_000).map_err(|_| ParseDurationError::Overflow(text.to_string()))?;
    Ok(Duration::new(secs, (total % 1_000_000_000) as u32))
}

/// `parse` for clap's `value_parser`.
pub fn parse_flag(text: &str) -> Result<Duration, String> {
    parse(text).map_err(|e| e.to_string())
}

/// Formats a duration as Go prints one (`300ms`, `1.5s`, `10s`, `2m40s`, `5m0s`).
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return if ms == 0 { "0s".into() } else { format!("{ms}ms") };
    }
    let secs = d.as_secs();
    let frac = d.subsec_millis();
    let s = |sec: u64| {
        if frac == 0 {
            format!("{sec}s")
        } else {
            format!("{sec}.{}s", format!("{frac:03}").trim_end_matches('0'))
        }
    };
    match (secs / 3600, secs / 60 % 60, secs % 60) {
        (0, 0, sec) => s(sec),
        (0, m, sec) => format!("{m}m{}", s(sec)),
        (h, m, sec) => format!("{h}h{m}m{}", s(sec)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h2m3s"), Ok(Duration::from_secs(3723)));
        assert_eq!(parse("2m30.5s"), Ok(Duration::from_millis(150_500)));
        assert_eq!(parse(".5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("10us"), Ok(Duration::from_micros(10)));
        assert_eq!(parse("10µs"), Ok(Duration::from_micros(10)));
        assert_eq!(parse("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("+3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse("-0"), Ok(Duration::ZERO));
    }

    #[test]
    fn formats_as_go_does() {
        assert_eq!(format(Duration::from_millis(300)), "300ms");
        assert_eq!(format(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format(Duration::from_secs(10)), "10s");
        assert_eq!(format(Duration::from_secs(160)), "2m40s");
        assert_eq!(format(Duration::from_secs(300)), "5m0s");
        assert_eq!(format(Duration::from_secs(3723)), "1h2m3s");
        assert_eq!(format(Duration::ZERO), "0s");
    }

    #[test]
    fn refuses_what_go_refuses() {
        assert_eq!(parse(""), Err(ParseDurationError::Empty));
        assert!(matches!(parse("5"), Err(ParseDurationError::MissingUnit(_))));
        assert!(matches!(parse("5x"), Err(ParseDurationError::UnknownUnit { .. })));
        assert!(matches!(parse("s"), Err(ParseDurationError::Invalid(_))));
        assert!(matches!(parse("."), Err(ParseDurationError::Invalid(_))));
        assert!(parse("1.s.2").is_err());
        assert!(matches!(parse("-1s"), Err(ParseDurationError::Negative(_))));
        assert!(parse("abc").is_err());
        assert!(matches!(parse("99999999999999999999999999999999999999h"), Err(ParseDurationError::Overflow(_))));
    }
}
