//! Amounts in the language of `Accept-Language`, as the enrollment server's
//! `MonetaryConverter` writes them: `amountFormatted` (the number alone), `currencyFormatted`
//! (the currency's symbol) and `valueFormatted` (both, in the language's currency pattern).
//!
//! The JDK formats them there; the JDK's CLDR data for 42 languages is in
//! `data/money.tsv` (made by `data/MoneyTable.java`). A language outside the table gets the
//! JDK's root locale, as Java gives a language it has no data for. Only the language counts:
//! a region (`de-CH`) is not looked at.
//!
//! Rules copied from the converter: the fraction digits are at least the currency's (ISO 4217;
//! 0 for a code that is not ISO, such as `BTC`) and at most 18, cut off beyond (never rounded
//! up); a code that is not ISO keeps itself as its symbol and is written after the number with
//! a no-break space.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::LazyLock;

const TABLE: &str = include_str!("../../data/money.tsv");
const MAX_FRACTION_DIGITS: usize = 18;
const NO_BREAK_SPACE: char = '\u{a0}';

/// A decimal number as `java.math.BigDecimal` reads it: `-1710.98`, `+5`, `1e3`, `.5`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Decimal {
    negative: bool,
    /// Integer digits, no leading zeros.
    int: String,
    /// Fraction digits, no trailing zeros.
    frac: String,
}

impl FromStr for Decimal {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (&rest[..at], rest[at + 1..].parse::<i32>().map_err(|_| ())?),
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.len() + frac.len() == 0 || !all_digits(int) || !all_digits(frac) {
            return Err(());
        }
        if exponent.unsigned_abs() > 1000 {
            return Err(());
        }
        // Move the point by the exponent.
        let digits = format!("{int}{frac}");
        let point = i64::try_from(int.len()).map_err(|_| ())? + i64::from(exponent);
        let (int, frac) = if point <= 0 {
            let zeros = usize::try_from(-point).map_err(|_| ())?;
            (String::new(), format!("{}{digits}", "0".repeat(zeros)))
        } else {
            let point = usize::try_from(point).map_err(|_| ())?;
            if point >= digits.len() {
                (
                    format!("{digits}{}", "0".repeat(point - digits.len())),
                    String::new(),
                )
            } else {
                (digits[..point].to_owned(), digits[point..].to_owned())
            }
        };
        Ok(Decimal {
            negative,
            int: int.trim_start_matches('0').to_owned(),
            frac: frac.trim_end_matches('0').to_owned(),
        })
    }
}

/// One language's separators and currency format, as the JDK's `DecimalFormat` has them.
struct Locale {
    decimal: char,
    group: char,
    grouping: usize,
    /// The number's negative prefix (`-`, `\u{2212}`, `\u{200e}-`).
    minus: &'static str,
    /// Whether the currency format groups digits (Bulgarian's does not).
    currency_grouped: bool,
    /// Around the number in the currency format, `¤` standing for the symbol.
    positive: (&'static str, &'static str),
    negative: (&'static str, &'static str),
}

struct Tables {
    digits: HashMap<&'static str, usize>,
    locales: HashMap<&'static str, Locale>,
    symbols: HashMap<(&'static str, &'static str), &'static str>,
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let mut tables = Tables {
        digits: HashMap::new(),
        locales: HashMap::new(),
        symbols: HashMap::new(),
    };
    let char_of = |s: &str| s.chars().next().unwrap_or(' ');
    for line in TABLE.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&'static str> = line.split('\t').collect();
        match fields.as_slice() {
            ["digits", code, digits] => {
                tables.digits.insert(code, digits.parse().unwrap_or(0));
            }
            [
                "locale",
                language,
                decimal,
                group,
                grouping,
                minus,
                currency_grouped,
                positive_prefix,
                positive_suffix,
                negative_prefix,
                negative_suffix,
            ] => {
                tables.locales.insert(
                    language,
                    Locale {
                        decimal: char_of(decimal),
                        group: char_of(group),
                        grouping: grouping.parse().unwrap_or(3),
                        minus,
                        currency_grouped: *currency_grouped == "1",
                        positive: (positive_prefix, positive_suffix),
                        negative: (negative_prefix, negative_suffix),
                    },
                );
            }
            ["symbol", language, code, symbol] => {
                tables.symbols.insert((language, code), symbol);
            }
            _ => {}
        }
    }
    tables
});

fn locale(language: &str) -> &'static Locale {
    let tables = &*TABLES;
    tables
        .locales
        .get(language)
        .or_else(|| tables.locales.get("root"))
        .expect("the money table has a root locale")
}

/// The language of an `Accept-Language` header as the servlet container picks it: the
/// entry with the highest `q` (the first of equals), its primary subtag in lower case.
/// `en` when the header is absent or names none.
pub(super) fn language(accept_language: Option<&str>) -> String {
    let mut best: Option<(f32, String)> = None;
    for entry in accept_language.unwrap_or("").split(',') {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        if primary.is_empty() || primary == "*" || q <= 0.0 {
            continue;
        }
        if best.as_ref().is_none_or(|(top, _)| q > *top) {
            best = Some((q, primary.to_ascii_lowercase()));
        }
    }
    best.map_or_else(|| "en".to_owned(), |(_, language)| language)
}

/// `currencyFormatted`: the currency's symbol in `language`, or the code itself.
pub(super) fn currency_symbol(code: &str, language: &str) -> String {
    let tables = &*TABLES;
    if !tables.digits.contains_key(code) {
        return code.to_owned();
    }
    let language = if tables.locales.contains_key(language) {
        language
    } else {
        "root"
    };
    tables
        .symbols
        .get(&(language, code))
        .map_or_else(|| code.to_owned(), |s| (*s).to_owned())
}

fn fraction_digits(code: &str) -> usize {
    TABLES.digits.get(code).copied().unwrap_or(0)
}

/// The digits of `amount` with the separators of `locale`.
fn number(amount: &Decimal, code: &str, locale: &Locale, grouped: bool) -> String {
    let mut frac: String = amount.frac.chars().take(MAX_FRACTION_DIGITS).collect();
    let min = fraction_digits(code);
    while frac.len() > min && frac.ends_with('0') {
        frac.pop();
    }
    while frac.len() < min {
        frac.push('0');
    }
    let int = if amount.int.is_empty() {
        "0"
    } else {
        &amount.int
    };
    let mut out = String::new();
    for (i, digit) in int.chars().enumerate() {
        let left = int.len() - i;
        if grouped && i > 0 && locale.grouping > 0 && left % locale.grouping == 0 {
            out.push(locale.group);
        }
        out.push(digit);
    }
    if !frac.is_empty() {
        out.push(locale.decimal);
        out.push_str(&frac);
    }
    out
}

/// `amountFormatted`: the number alone, grouped, with the currency's fraction digits.
pub(super) fn format_amount(amount: &Decimal, code: &str, language: &str) -> String {
    let locale = locale(language);
    let digits = number(amount, code, locale, true);
    if amount.negative {
        format!("{}{digits}", locale.minus)
    } else {
        digits
    }
}

/// `valueFormatted`: the number and the currency's symbol in the language's currency
/// pattern; a code that is not ISO 4217 follows the number after a no-break space.
pub(super) fn format_value(amount: &Decimal, code: &str, language: &str) -> String {
    if !TABLES.digits.contains_key(code) {
        return format!(
            "{}{NO_BREAK_SPACE}{code}",
            format_amount(amount, code, language)
        );
    }
    let locale = locale(language);
    let digits = number(amount, code, locale, locale.currency_grouped);
    let (prefix, suffix) = if amount.negative {
        locale.negative
    } else {
        locale.positive
    };
    let symbol = currency_symbol(code, language);
    format!("{prefix}{digits}{suffix}").replace('¤', &symbol)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    /// Every row of the enrollment server's `MonetaryConverterTest`.
    #[test]
    fn the_enrollment_servers_own_cases() {
        for (code, language, symbol) in [
            ("CZK", "en", "CZK"),
            ("CZK", "cs", "Kč"),
            ("USD", "en", "$"),
            ("USD", "cs", "US$"),
            ("UYU", "cs", "UYU"),
            ("UYU", "en", "UYU"),
            ("UYU", "uy", "UYU"),
            ("CAD", "cs", "CA$"),
            ("CAD", "ca", "CAD"),
            ("CAD", "en", "CA$"),
            ("NZD", "en", "NZ$"),
            ("NZD", "cs", "NZ$"),
            ("NZD", "nz", "NZ$"),
            ("BTC", "cs", "BTC"),
            ("...", "cs", "..."),
        ] {
            assert_eq!(currency_symbol(code, language), symbol, "{code} {language}");
        }
        let nbsp = |s: &str| s.replace(' ', "\u{a0}");
        for (amount, code, language, expected) in [
            ("1710.9817", "CZK", "en", "1,710.9817"),
            ("1710.9817", "CZK", "cs", "1 710,9817"),
            ("1710", "CZK", "cs", "1 710,00"),
            ("1710", "USD", "en", "1,710.00"),
            ("1710.1", "CZK", "cs", "1 710,10"),
            ("1710.1", "USD", "en", "1,710.10"),
            ("1710", "JPY", "jp", "1,710"),
            ("1710", "JPY", "en", "1,710"),
            ("1710", "JPY", "cs", "1 710"),
            ("1", "BTC", "en", "1"),
            ("1.1", "BTC", "en", "1.1"),
            ("0.123456789", "BTC", "en", "0.123456789"),
            (
                "0.567567567567567567567",
                "BTC",
                "en",
                "0.567567567567567567",
            ),
            ("1", "...", "en", "1"),
        ] {
            assert_eq!(
                format_amount(&decimal(amount), code, language),
                nbsp(expected),
                "{amount} {code} {language}"
            );
        }
        for (amount, code, language, expected) in [
            ("1710.9867", "CZK", "en", "CZK1,710.9867"),
            ("1710.9867", "CZK", "cs", "1 710,9867 Kč"),
            ("1710", "CZK", "cs", "1 710,00 Kč"),
            ("1710", "USD", "en", "$1,710.00"),
            ("1710", "USD", "cs", "1 710,00 US$"),
            ("1710.1", "CZK", "cs", "1 710,10 Kč"),
            ("1710.1", "USD", "en", "$1,710.10"),
            ("1710.1", "EUR", "cs", "1 710,10 €"),
            ("1710.1", "EUR", "en", "€1,710.10"),
            ("1710", "JPY", "jp", "JP¥ 1,710"),
            ("1710", "JPY", "en", "¥1,710"),
            ("1710", "JPY", "cs", "1 710 JP¥"),
            ("1", "BTC", "en", "1 BTC"),
            ("1.1", "BTC", "en", "1.1 BTC"),
            ("0.123456789", "BTC", "en", "0.123456789 BTC"),
            (
                "0.567567567567567567567",
                "BTC",
                "en",
                "0.567567567567567567 BTC",
            ),
            ("1", "...", "en", "1 ..."),
        ] {
            assert_eq!(
                format_value(&decimal(amount), code, language),
                nbsp(expected),
                "{amount} {code} {language}"
            );
        }
    }

    /// Figures the JDK 17 printed for `MonetaryConverter`'s calls (see `data/MoneyTable.java`).
    #[test]
    fn other_languages_as_the_jdk_writes_them() {
        for (amount, code, language, amount_formatted, value_formatted) in [
            (
                "1234567.5",
                "EUR",
                "de",
                "1.234.567,50",
                "1.234.567,50\u{a0}€",
            ),
            (
                "1234567.5",
                "EUR",
                "fr",
                "1\u{202f}234\u{202f}567,50",
                "1\u{202f}234\u{202f}567,50\u{a0}€",
            ),
            ("1234.5", "EUR", "nl", "1.234,50", "€\u{a0}1.234,50"),
            ("-1234.5", "EUR", "nl", "-1.234,50", "€\u{a0}-1.234,50"),
            ("-1234.5", "USD", "en", "-1,234.50", "-$1,234.50"),
            (
                "-1234.5",
                "SEK",
                "sv",
                "\u{2212}1\u{a0}234,50",
                "\u{2212}1\u{a0}234,50\u{a0}kr",
            ),
            ("1234.5", "BGN", "bg", "1\u{a0}234,50", "1234,50\u{a0}лв."),
            (
                "1234.5",
                "EUR",
                "sk",
                "1\u{a0}234,50",
                "1\u{a0}234,50\u{a0}€",
            ),
            ("1e3", "CZK", "en", "1,000.00", "CZK1,000.00"),
            ("0.5", "KWD", "en", "0.500", "KWD0.500"),
            (
                "-1234.5",
                "ILS",
                "he",
                "\u{200e}-1,234.50",
                "\u{200f}\u{200e}-1,234.50\u{a0}₪",
            ),
            ("1234.5", "ISK", "is", "1.234,5", "1.234,5\u{a0}ISK"),
            ("1234.5", "INR", "hi", "1,234.50", "₹1,234.50"),
        ] {
            let amount = decimal(amount);
            assert_eq!(
                format_amount(&amount, code, language),
                amount_formatted,
                "{code} {language}"
            );
            assert_eq!(
                format_value(&amount, code, language),
                value_formatted,
                "{code} {language}"
            );
        }
    }

    #[test]
    fn decimals_read_as_big_decimal_reads_them() {
        assert_eq!(decimal("+007.50"), decimal("7.5"));
        assert_eq!(decimal(".5"), decimal("0.5"));
        assert_eq!(decimal("15e-1"), decimal("1.5"));
        for bad in ["", "-", "1.2.3", "1,5", "abc", "1e", "0x10", "1e99999"] {
            assert!(bad.parse::<Decimal>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_language_is_the_best_accept_language_entry() {
        assert_eq!(language(None), "en");
        assert_eq!(language(Some("cs-CZ,cs;q=0.9,en;q=0.8")), "cs");
        assert_eq!(language(Some("en;q=0.5, DE;q=0.9")), "de");
        assert_eq!(language(Some("*")), "en");
        assert_eq!(language(Some("")), "en");
    }
}
