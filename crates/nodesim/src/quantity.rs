//! Kubernetes resource quantities (`100m`, `1.5Gi`, `2e3`) as whole milli-units, the unit
//! kube-scheduler compares cpu in; memory and every other resource use the same scale here so
//! one integer type fits all and extended resources need no special case.

/// Why a text is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid quantity {0:?}")]
pub struct ParseQuantityError(pub String);

/// Parses a quantity into milli-units, rounding up as kube's `MilliValue` does.
pub fn parse_milli(text: &str) -> Result<i128, ParseQuantityError> {
    let err = || ParseQuantityError(text.to_string());
    let s = text.trim();
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let num_len = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, suffix) = s.split_at(num_len);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return Err(err());
    }
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    let digits = format!("{int_part}{frac_part}");
    if digits.len() > 30 {
        return Err(err());
    }
    let mantissa: i128 = digits.parse().map_err(|_| err())?;
    // value = mantissa * 2^bin * 10^dec, with the fraction folded into dec.
    let (bin, mut dec): (u32, i32) = match suffix {
        "" => (0, 0),
        "Ki" => (10, 0),
        "Mi" => (20, 0),
        "Gi" => (30, 0),
        "Ti" => (40, 0),
        "Pi" => (50, 0),
        "Ei" => (60, 0),
        "n" => (0, -9),
        "u" => (0, -6),
        "m" => (0, -3),
        "k" => (0, 3),
        "M" => (0, 6),
        "G" => (0, 9),
        "T" => (0, 12),
        "P" => (0, 15),
        "E" => (0, 18),
        s if s.starts_with(['e', 'E']) => (0, s[1..].parse::<i32>().map_err(|_| err())?),
        _ => return Err(err()),
    };
    dec -= frac_part.len() as i32;
    dec += 3; // milli-units
    let mut value = mantissa.checked_mul(1i128 << bin).ok_or_else(err)?;
    if dec >= 0 {
        if dec > 30 {
            return Err(err());
        }
        value = value.checked_mul(10i128.pow(dec as u32)).ok_or_else(err)?;
    } else {
        let div = 10i128.checked_pow((-dec) as u32).ok_or_else(err)?;
        value = (value + div - 1) / div;
    }
    Ok(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quantities() {
        assert_eq!(parse_milli("1"), Ok(1000));
        assert_eq!(parse_milli("100m"), Ok(100));
        assert_eq!(parse_milli("0.5"), Ok(500));
        assert_eq!(parse_milli("1.5"), Ok(1500));
        assert_eq!(parse_milli("8"), Ok(8000));
        assert_eq!(parse_milli("1Ki"), Ok(1024 * 1000));
        assert_eq!(parse_milli("32Gi"), Ok(32 * (1i128 << 30) * 1000));
        assert_eq!(parse_milli("1.5Gi"), Ok(3 * (1i128 << 29) * 1000));
        assert_eq!(parse_milli("128M"), Ok(128_000_000_000));
        assert_eq!(parse_milli("2e3"), Ok(2_000_000));
        assert_eq!(parse_milli("1n"), Ok(1), "rounds up");
        assert_eq!(parse_milli("110"), Ok(110_000));
        assert_eq!(parse_milli("0"), Ok(0));
    }

    #[test]
    fn refuses_garbage() {
        for bad in ["", "abc", "1x", "1..2", ".", "Gi", "1e", "1Gib"] {
            assert!(parse_milli(bad).is_err(), "{bad}");
        }
    }
}
