//! `[redact] clock`: the time zone of the clock Zoom burns into the
//! picture, as the pipeline file states it. Parsed and checked here, at
//! load time; `redact::clock` turns it into instants.
//!
//! Invariants: a zone name is accepted only if the time zone database
//! (`jiff`: the operating system's, or the copy bundled for Windows)
//! knows it; an error quotes at most 40 characters of what was written.

use jiff::tz::TimeZone;

/// `[redact] clock` as written in the pipeline file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(into = "String")]
pub enum ClockSetting {
    /// The PC's own time zone.
    Local,
    /// A fixed offset from UTC, in seconds.
    Fixed(i32),
    /// An IANA time zone name.
    Zone(String),
}

impl From<ClockSetting> for String {
    fn from(c: ClockSetting) -> String {
        c.to_string()
    }
}

impl std::fmt::Display for ClockSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClockSetting::Local => f.write_str("local"),
            ClockSetting::Fixed(s) => {
                let sign = if *s < 0 { '-' } else { '+' };
                let a = s.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", a / 3600, a / 60 % 60)
            }
            ClockSetting::Zone(z) => f.write_str(z),
        }
    }
}

impl ClockSetting {
    /// Reads `"local"`, `"+01:00"` / `"-05:30"` / `"UTC"`, or a zone name
    /// the time zone database knows; the error says which forms there are.
    pub fn parse(text: &str) -> Result<ClockSetting, String> {
        const FORMS: &str = "write \"local\", a UTC offset like \"+01:00\", or a time zone name like \"Europe/Oslo\"";
        let t = text.trim();
        if t.eq_ignore_ascii_case("local") {
            return Ok(ClockSetting::Local);
        }
        if let Some(rest) = t.strip_prefix(['+', '-']) {
            let sign = if t.starts_with('-') { -1 } else { 1 };
            let (h, m) = rest.split_once(':').unwrap_or((rest, "00"));
            let num = |s: &str| {
                (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| s.parse::<i32>().ok())
                    .flatten()
            };
            return match (num(h), num(m)) {
                (Some(h), Some(m)) if h <= 14 && m < 60 => {
                    Ok(ClockSetting::Fixed(sign * (h * 3600 + m * 60)))
                }
                _ => Err(format!("{} is not a UTC offset; {FORMS}", short(t))),
            };
        }
        match TimeZone::get(t) {
            Ok(_) => Ok(ClockSetting::Zone(t.to_string())),
            Err(_) => Err(format!(
                "{} is not a time zone the time zone database knows; {FORMS}",
                short(t)
            )),
        }
    }
}

fn short(t: &str) -> String {
    let cut: String = t.chars().take(40).collect();
    if cut.len() < t.len() {
        format!("\"{cut}…\"")
    } else {
        format!("\"{cut}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_refuse() {
        assert_eq!(ClockSetting::parse("local"), Ok(ClockSetting::Local));
        assert_eq!(ClockSetting::parse("+01:00"), Ok(ClockSetting::Fixed(3600)));
        assert_eq!(
            ClockSetting::parse("-05:30"),
            Ok(ClockSetting::Fixed(-19800))
        );
        assert_eq!(
            ClockSetting::parse("Europe/Oslo"),
            Ok(ClockSetting::Zone("Europe/Oslo".into()))
        );
        assert_eq!(ClockSetting::Fixed(-19800).to_string(), "-05:30");
        for bad in ["+1", "+25:00", "Europe/Atlantis", "+01:60"] {
            let e = ClockSetting::parse(bad).unwrap_err();
            assert!(e.contains("Europe/Oslo"), "{e}");
        }
        let long = "x".repeat(10_000);
        assert!(ClockSetting::parse(&long).unwrap_err().len() < 200);
    }
}
