//! `resource.Quantity` parsing and canonical formatting, as apimachinery does it.
//!
//! kube-apiserver never echoes a quantity as the client wrote it unless it was already in
//! canonical form: `cpu: 0.5` comes back as `500m`, `memory: 1024Mi` as `1Gi`, and
//! container resource lists are additionally rounded up to milli precision by
//! `SetDefaults_ResourceList`. The value is held exactly as `mantissa × 10^exp`.

use std::cmp::Ordering;

use serde_json::Value;

/// The regular-expression error apimachinery returns for a malformed quantity.
pub(crate) const ERR_FORMAT: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/// Error for an unknown suffix such as `5Qi`.
pub(crate) const ERR_SUFFIX: &str = "unable to parse quantity's suffix";
/// Error for a numeric part that does not fit.
pub(crate) const ERR_NUMERIC: &str = "unable to parse numeric part of quantity";

/// The suffix family a quantity was written in; it decides how it is printed back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// `k`, `M`, `m`, `n`, ... or no suffix.
    DecimalSI,
    /// `Ki`, `Mi`, `Gi`, ...
    BinarySI,
    /// `e3`, `E-2`, ...
    DecimalExponent,
}

/// An exact quantity: `mantissa × 10^exp`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Quantity {
    pub(crate) mantissa: i128,
    pub(crate) exp: i32,
    pub(crate) format: Format,
}

const DEC_SUFFIXES: [(&str, i32); 10] =
    [("n", -9), ("u", -6), ("m", -3), ("", 0), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18)];
const BIN_SUFFIXES: [(&str, u32); 6] = [("Ki", 10), ("Mi", 20), ("Gi", 30), ("Ti", 40), ("Pi", 50), ("Ei", 60)];

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

impl Quantity {
    /// Zero, the value of an unset quantity.
    pub(crate) fn zero() -> Self {
        Quantity { mantissa: 0, exp: 0, format: Format::DecimalSI }
    }

    /// Parses like `resource.ParseQuantity`, including the round-up to nano precision.
    pub(crate) fn parse(s: &str) -> Result<Quantity, &'static str> {
        if s.is_empty() {
            return Err(ERR_FORMAT);
        }
        let (positive, num, denom, suffix) = split(s)?;
        let (base2_exp, base10_exp, format) = interpret_suffix(suffix).ok_or(ERR_SUFFIX)?;
        let digits = format!("{num}{denom}");
        let mut mantissa: i128 = digits.parse().map_err(|_| ERR_NUMERIC)?;
        let mut exp: i32 = base10_exp - denom.len() as i32;
        if base2_exp > 0 {
            mantissa = mantissa.checked_mul(1i128 << base2_exp).ok_or(ERR_NUMERIC)?;
        }
        // apimachinery rounds anything finer than 1n up (away from zero) so a tiny request
        // still asks for something.
        if exp < -9 && mantissa != 0 {
            let shift = (-9 - exp) as u32;
            let div = pow10(shift).ok_or(ERR_NUMERIC)?;
            let q = mantissa / div;
            mantissa = if mantissa % div != 0 { q + 1 } else { q };
            exp = -9;
        }
        if !positive {
            mantissa = -mantissa;
        }
        let mut q = Quantity { mantissa, exp, format };
        // A binary quantity below one is printed in decimal (e.g. 0.5Ki stays 512).
        if format == Format::BinarySI && q.mantissa != 0 && q.cmp_value(&Quantity::from_int(1)) == Ordering::Less {
            q.format = Format::DecimalSI;
        }
        Ok(q)
    }

    /// Parses a JSON quantity, which kube accepts as a string or a bare number.
    pub(crate) fn from_json(v: &Value) -> Result<Quantity, &'static str> {
        match v {
            Value::String(s) => Quantity::parse(s.trim()),
            Value::Number(n) => Quantity::parse(&n.to_string()),
            _ => Err(ERR_FORMAT),
        }
    }

    /// An integer quantity.
    pub(crate) fn from_int(i: i64) -> Self {
        Quantity { mantissa: i128::from(i), exp: 0, format: Format::DecimalSI }
    }

    fn normalized(&self) -> (i128, i32) {
        if self.mantissa == 0 {
            return (0, 0);
        }
        let (mut m, mut e) = (self.mantissa, self.exp);
        while m % 10 == 0 {
            m /= 10;
            e += 1;
        }
        (m, e)
    }

    /// Compares values (not formats).
    pub(crate) fn cmp_value(&self, other: &Quantity) -> Ordering {
        let e = self.exp.min(other.exp);
        let a = scale_to(self.mantissa, self.exp, e);
        let b = scale_to(other.mantissa, other.exp, e);
        match (a, b) {
            (Some(a), Some(b)) => a.cmp(&b),
            // Out of i128 range: fall back to float comparison.
            _ => self.as_f64().partial_cmp(&other.as_f64()).unwrap_or(Ordering::Equal),
        }
    }

    fn as_f64(&self) -> f64 {
        self.mantissa as f64 * 10f64.powi(self.exp)
    }

    /// Sum of two quantities, keeping the left format.
    pub(crate) fn add(&self, other: &Quantity) -> Quantity {
        let e = self.exp.min(other.exp);
        match (scale_to(self.mantissa, self.exp, e), scale_to(other.mantissa, other.exp, e)) {
            (Some(a), Some(b)) => Quantity { mantissa: a.saturating_add(b), exp: e, format: self.format },
            _ => *self,
        }
    }

    /// True for values < 0.
    pub(crate) fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// True when the value is a whole number.
    pub(crate) fn is_integer(&self) -> bool {
        let (m, e) = self.normalized();
        m == 0 || e >= 0
    }

    /// `RoundUp(scale)`: rounds away from zero to `10^exp` precision (milli is -3).
    pub(crate) fn round_up(&mut self, exp: i32) {
        if self.exp >= exp {
            return;
        }
        if let Some(div) = pow10((exp - self.exp) as u32) {
            let q = self.mantissa / div;
            self.mantissa = if self.mantissa % div != 0 { q + self.mantissa.signum() } else { q };
            self.exp = exp;
        }
    }

    /// The canonical string, as `Quantity.String()` / JSON marshalling prints it.
    pub(crate) fn canonical(&self) -> String {
        let (m, e) = self.normalized();
        if m == 0 {
            return "0".to_string();
        }
        let mut format = self.format;
        if format == Format::BinarySI {
            let small = self.cmp_value(&Quantity::from_int(-1024)) == Ordering::Greater
                && self.cmp_value(&Quantity::from_int(1024)) == Ordering::Less;
            if small || e < 0 {
                format = Format::DecimalSI;
            }
        }
        match format {
            Format::BinarySI => {
                let mut n = scale_to(m, e, 0).unwrap_or(m);
                let mut k = 0usize;
                while k < BIN_SUFFIXES.len() && n % 1024 == 0 {
                    n /= 1024;
                    k += 1;
                }
                let suffix = if k == 0 { "" } else { BIN_SUFFIXES[k - 1].0 };
                format!("{n}{suffix}")
            }
            Format::DecimalSI | Format::DecimalExponent => {
                // Make the exponent a multiple of three, moving digits into the mantissa.
                let r = e.rem_euclid(3);
                let (m, e) = match pow10(r as u32).and_then(|p| m.checked_mul(p)) {
                    Some(m) => (m, e - r),
                    None => (m, e),
                };
                if format == Format::DecimalSI {
                    if let Some((s, _)) = DEC_SUFFIXES.iter().find(|(_, x)| *x == e) {
                        return format!("{m}{s}");
                    }
                }
                if e == 0 {
                    format!("{m}")
                } else {
                    format!("{m}e{e}")
                }
            }
        }
    }
}

fn scale_to(m: i128, e: i32, target: i32) -> Option<i128> {
    if e == target {
        return Some(m);
    }
    let diff = u32::try_from(e - target).ok()?;
    m.checked_mul(pow10(diff)?)
}

/// Splits `[+-]digits[.digits]suffix` like apimachinery's parseQuantityString.
fn split(s: &str) -> Result<(bool, String, String, &str), &'static str> {
    let b = s.as_bytes();
    let mut pos = 0;
    let mut positive = true;
    if let Some(&c) = b.first() {
        if c == b'-' {
            positive = false;
            pos = 1;
        } else if c == b'+' {
            pos = 1;
        }
    }
    while pos < b.len() && b[pos] == b'0' {
        pos += 1;
    }
    let start = pos;
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let mut num = s[start..pos].to_string();
    if num.is_empty() {
        num = "0".to_string();
    }
    let mut denom = String::new();
    if pos < b.len() && b[pos] == b'.' {
        pos += 1;
        let ds = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = s[ds..pos].to_string();
    }
    let suffix_start = pos;
    while pos < b.len() && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < b.len() && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos != b.len() {
        return Err(ERR_FORMAT);
    }
    Ok((positive, num, denom, &s[suffix_start..]))
}

/// Returns (power of two, power of ten, format) for a suffix.
fn interpret_suffix(suffix: &str) -> Option<(u32, i32, Format)> {
    if let Some((_, e)) = DEC_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
        return Some((0, *e, Format::DecimalSI));
    }
    if let Some((_, p)) = BIN_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
        return Some((*p, 0, Format::BinarySI));
    }
    let rest = suffix.strip_prefix('e').or_else(|| suffix.strip_prefix('E'))?;
    if rest.is_empty() {
        return None;
    }
    let e: i32 = rest.parse().ok()?;
    Some((0, e, Format::DecimalExponent))
}

/// Rewrites every quantity of a resource list in canonical form, rounded up to milli
/// precision as `SetDefaults_ResourceList` does. Unparsable values are left for validation.
pub(crate) fn canonicalize_resource_list(list: Option<&mut Value>) {
    let Some(Value::Object(m)) = list else { return };
    for (_, v) in m.iter_mut() {
        if let Ok(mut q) = Quantity::from_json(v) {
            q.round_up(-3);
            *v = Value::String(q.canonical());
        }
    }
}

/// Rewrites a single quantity field in canonical form (no milli rounding).
pub(crate) fn canonicalize_value(v: Option<&mut Value>) {
    if let Some(v) = v {
        if let Ok(q) = Quantity::from_json(v) {
            *v = Value::String(q.canonical());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        Quantity::parse(s).map(|q| q.canonical()).unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn canonical_forms_match_apimachinery() {
        // Expectations from apimachinery's quantity_test.go table (TestQuantityCanonicalize…).
        assert_eq!(canon("0.5"), "500m");
        assert_eq!(canon("1000m"), "1");
        assert_eq!(canon("100m"), "100m");
        assert_eq!(canon("1024Mi"), "1Gi");
        assert_eq!(canon("1536Mi"), "1536Mi");
        assert_eq!(canon("1.5Gi"), "1536Mi");
        assert_eq!(canon("512Ki"), "512Ki");
        assert_eq!(canon("1000Ki"), "1000Ki");
        assert_eq!(canon("1023"), "1023");
        assert_eq!(canon("0.5Ki"), "512");
        assert_eq!(canon("1e3"), "1e3");
        assert_eq!(canon("1E6"), "1e6");
        assert_eq!(canon("1000"), "1k");
        assert_eq!(canon("1500"), "1500");
        assert_eq!(canon("12e1"), "120");
        assert_eq!(canon("0"), "0");
        assert_eq!(canon("000"), "0");
        assert_eq!(canon("1n"), "1n");
        assert_eq!(canon("0.1n"), "1n");
        assert_eq!(canon("1.5"), "1500m");
        assert_eq!(canon("-1"), "-1");
        assert_eq!(canon("128974848"), "128974848");
        assert_eq!(canon("129e6"), "129e6");
        assert_eq!(canon("123Mi"), "123Mi");
        assert_eq!(canon("1G"), "1G");
    }

    #[test]
    fn bad_quantities() {
        assert_eq!(canon("abc"), ERR_FORMAT);
        assert_eq!(canon("1Qi"), ERR_FORMAT);
        assert_eq!(canon("1KK"), ERR_SUFFIX);
        assert_eq!(canon(""), ERR_FORMAT);
    }

    #[test]
    fn milli_rounding_and_compare() {
        let mut q = Quantity::parse("1n").unwrap();
        q.round_up(-3);
        assert_eq!(q.canonical(), "1m");
        let a = Quantity::parse("500m").unwrap();
        let b = Quantity::parse("0.5").unwrap();
        assert_eq!(a.cmp_value(&b), Ordering::Equal);
        assert_eq!(Quantity::parse("1Gi").unwrap().cmp_value(&Quantity::parse("1G").unwrap()), Ordering::Greater);
    }
}
