//! ISO 8601 durations as Java's `java.time.Duration` reads and writes them
//! (`retentionPeriod`, `initialBackoff`): `PnDTnHnMn.nS` in, `PTnHnMn.nS` out (Java never
//! writes days: 30 days is `PT720H`). The sandbox keeps milliseconds.

/// Parses `P2D`, `PT2.5S`, `pt1h30m`, `-PT1S` (Java's grammar, case-insensitive) into
/// milliseconds; fractions finer than a millisecond are dropped. `None` when it does not
/// parse or does not fit.
pub(crate) fn parse_ms(text: &str) -> Option<i64> {
    let upper = text.to_ascii_uppercase();
    let (negative, rest) = match upper.as_bytes().first()? {
        b'-' => (true, &upper[1..]),
        b'+' => (false, &upper[1..]),
        _ => (false, upper.as_str()),
    };
    let rest = rest.strip_prefix('P')?;
    let (days, time) = match rest.split_once('T') {
        Some((days, time)) => {
            if time.is_empty() {
                return None;
            }
            (days, Some(time))
        }
        None => (rest, None),
    };
    if days.is_empty() && time.is_none() {
        return None;
    }
    let mut total: i64 = 0;
    if !days.is_empty() {
        let n = days.strip_suffix('D')?;
        total = total.checked_add(whole(n)?.checked_mul(86_400_000)?)?;
    }
    if let Some(mut time) = time {
        for (unit, factor) in [('H', 3_600_000_i64), ('M', 60_000)] {
            if let Some(at) = time.find(unit) {
                total = total.checked_add(whole(&time[..at])?.checked_mul(factor)?)?;
                time = &time[at + 1..];
            }
        }
        if !time.is_empty() {
            let seconds = time.strip_suffix('S')?;
            let (whole_part, fraction) = match seconds.split_once(['.', ',']) {
                Some((w, f)) => (w, f),
                None => (seconds, ""),
            };
            if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let secs = whole(whole_part)?;
            let millis: i64 = format!("{fraction:0<3}")[..3].parse().ok()?;
            let millis = if secs < 0 || whole_part.starts_with('-') {
                -millis
            } else {
                millis
            };
            total = total.checked_add(secs.checked_mul(1000)?.checked_add(millis)?)?;
        }
    }
    Some(if negative {
        total.checked_neg()?
    } else {
        total
    })
}

fn whole(digits: &str) -> Option<i64> {
    let unsigned = digits.strip_prefix(['-', '+']).unwrap_or(digits);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Java's `Duration.toString()` of a non-negative millisecond count: `PT0S`, `PT2S`,
/// `PT2.5S`, `PT720H`, `PT1H30M`.
pub(crate) fn format_ms(ms: i64) -> String {
    let ms = ms.max(0);
    if ms == 0 {
        return "PT0S".to_owned();
    }
    let hours = ms / 3_600_000;
    let minutes = ms % 3_600_000 / 60_000;
    let seconds = ms % 60_000 / 1000;
    let millis = ms % 1000;
    let mut out = String::from("PT");
    if hours > 0 {
        out += &format!("{hours}H");
    }
    if minutes > 0 {
        out += &format!("{minutes}M");
    }
    if seconds > 0 || millis > 0 {
        out += &seconds.to_string();
        if millis > 0 {
            out += format!(".{millis:03}").trim_end_matches('0');
        }
        out.push('S');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_durations_parse() {
        assert_eq!(parse_ms("P30D"), Some(30 * 86_400_000));
        assert_eq!(parse_ms("PT2.5S"), Some(2_500));
        assert_eq!(parse_ms("PT0.05S"), Some(50));
        assert_eq!(parse_ms("pt1h30m"), Some(5_400_000));
        assert_eq!(parse_ms("P1DT1S"), Some(86_401_000));
        assert_eq!(parse_ms("PT0S"), Some(0));
        assert_eq!(parse_ms("-PT1S"), Some(-1000));
        assert_eq!(parse_ms("PT-1S"), Some(-1000));
        assert_eq!(parse_ms("PT1,5S"), Some(1500));
    }

    #[test]
    fn malformed_durations_do_not_parse() {
        for text in [
            "",
            "P",
            "PT",
            "30D",
            "P1H",
            "PTS",
            "PT1.S5",
            "PT1X",
            "P1DT",
            "PT1.0000000001S",
            "PTxS",
            "PT+S",
            "P99999999999999999D",
        ] {
            assert_eq!(parse_ms(text), None, "{text:?}");
        }
    }

    #[test]
    fn durations_print_as_java_prints_them() {
        assert_eq!(format_ms(0), "PT0S");
        assert_eq!(format_ms(2_000), "PT2S");
        assert_eq!(format_ms(2_500), "PT2.5S");
        assert_eq!(format_ms(50), "PT0.05S");
        assert_eq!(format_ms(30 * 86_400_000), "PT720H");
        assert_eq!(format_ms(5_400_000), "PT1H30M");
        assert_eq!(format_ms(3_601_001), "PT1H1.001S");
    }

    proptest::proptest! {
        #[test]
        fn printing_then_parsing_gives_the_same_duration(ms in 0_i64..i64::MAX / 2) {
            proptest::prop_assert_eq!(parse_ms(&format_ms(ms)), Some(ms));
        }

        #[test]
        fn any_text_parses_or_is_refused_without_panicking(text in "\\PC{0,40}") {
            let _ = parse_ms(&text);
        }

        #[test]
        fn duration_like_text_parses_or_is_refused_without_panicking(
            text in "[-+]?[Pp][0-9]{0,20}[Dd]?([Tt][-+0-9]{0,20}[HhMm]?[-+0-9.,]{0,25}[Ss]?)?"
        ) {
            let _ = parse_ms(&text);
        }
    }
}
