//! Human durations as written in pipeline files and on the command line:
//! `30s`, `1s`, `500ms`, `2m`, `1h30m`, `0s`. A bare number is refused, so
//! that `settle = 30` cannot silently mean thirty of an unknown unit.

use serde::{Deserialize, Deserializer};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A duration parsed from text such as `1h30m` or `250ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct HumanDuration(pub Duration);

/// Why a duration could not be parsed. The text is included: durations are
/// never secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a duration: {why} (write e.g. 30s, 500ms, 2m or 1h30m)")]
pub struct DurationError {
    text: String,
    why: &'static str,
}

impl FromStr for HumanDuration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |why| DurationError {
            text: text.to_string(),
            why,
        };
        let s = text.trim();
        if s.is_empty() {
            return Err(fail("it is empty"));
        }
        let mut total: u128 = 0; // milliseconds
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(fail("a number must come before each unit"));
            }
            let number: u128 = rest[..digits]
                .parse()
                .map_err(|_| fail("the number is too large"))?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let factor = match &rest[..unit_len] {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "" => return Err(fail("the unit is missing")),
                _ => return Err(fail("the unit must be one of ms, s, m, h")),
            };
            rest = &rest[unit_len..];
            total = number
                .checked_mul(factor)
                .and_then(|v| total.checked_add(v))
                .filter(|v| *v <= u64::MAX as u128)
                .ok_or_else(|| fail("it is too long"))?;
        }
        Ok(HumanDuration(Duration::from_millis(total as u64)))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        let (h, rem) = (ms / 3_600_000, ms % 3_600_000);
        let (m, rem) = (rem / 60_000, rem % 60_000);
        let (s, ms) = (rem / 1_000, rem % 1_000);
        for (v, unit) in [(h, "h"), (m, "m"), (s, "s"), (ms, "ms")] {
            if v > 0 {
                write!(f, "{v}{unit}")?;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> u128 {
        text.parse::<HumanDuration>().unwrap().0.as_millis()
    }

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(ms("30s"), 30_000);
        assert_eq!(ms("1s"), 1_000);
        assert_eq!(ms("500ms"), 500);
        assert_eq!(ms("2m"), 120_000);
        assert_eq!(ms("1h30m"), 5_400_000);
        assert_eq!(ms("0s"), 0);
        assert_eq!(ms(" 1m5s "), 65_000);
    }

    #[test]
    fn refuses_what_is_ambiguous_or_wrong() {
        for bad in [
            "",
            "30",
            "s",
            "1x",
            "1.5s",
            "-1s",
            "1 s",
            "99999999999999999999999h",
        ] {
            let err = bad.parse::<HumanDuration>().unwrap_err();
            assert!(
                err.to_string().contains("is not a duration"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["0s", "30s", "1h30m", "2m5s250ms", "500ms"] {
            let d: HumanDuration = text.parse().unwrap();
            assert_eq!(d.to_string(), text);
            assert_eq!(d.to_string().parse::<HumanDuration>().unwrap(), d);
        }
    }
}
