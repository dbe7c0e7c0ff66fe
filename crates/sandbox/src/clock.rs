//! Time comes in through [`Clock`] (`tokensim-clock`'s, the one the device uses too), so
//! tests can move it (activation expiry, operation expiry, token timestamp windows) without
//! sleeping. Business logic never calls `SystemTime::now()` itself. The dates the sandbox's
//! APIs write are formatted here.

pub use tokensim_clock::{Clock, SystemClock, TestClock};

/// Reads an RFC 3339 date with an offset (`2024-06-29T14:43:13.000+00:00`, `…Z`), as
/// Jackson writes a `Date`, into Unix milliseconds.
pub(crate) fn parse_iso8601(text: &str) -> Option<i64> {
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(jiff::Timestamp::as_millisecond)
}

/// Formats Unix milliseconds as ISO-8601 UTC with milliseconds, the way PowerAuth
/// Server's JSON shows dates: `2024-06-29T14:43:13.000+00:00`.
pub fn iso8601(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}+00:00",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// Formats Unix milliseconds the way the enrollment server's mobile API shows dates:
/// `2018-07-02T14:43:13+0000`.
pub(crate) fn iso8601_mobile(ms: i64) -> String {
    let full = iso8601(ms);
    // "YYYY-MM-DDTHH:MM:SS.mmm+00:00" -> "YYYY-MM-DDTHH:MM:SS+0000"
    format!("{}+0000", full.get(..19).unwrap_or(&full))
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_matches_known_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000+00:00");
        assert_eq!(iso8601(1_530_542_593_123), "2018-07-02T14:43:13.123+00:00");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000+00:00");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999+00:00");
        assert_eq!(
            iso8601_mobile(1_530_542_593_123),
            "2018-07-02T14:43:13+0000"
        );
    }
}
