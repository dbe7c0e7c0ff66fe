//! The lenient `PowerAuth key="value", …` field syntax shared by the
//! `X-PowerAuth-Authorization`, `X-PowerAuth-Token` and `X-PowerAuth-Encryption` headers.
//!
//! Wultra's Java parser (`PowerAuthHttpHeader.parseHttpHeader`) trims the value, requires
//! the prefix `PowerAuth `, and collects every match of
//! `(\w+)="*((?<=")[^"]+(?=")|([^\s]+)),*"*`. Fields may come in any order, commas and
//! quotes may be missing, and a later duplicate wins. This module reproduces that
//! regular expression's matches exactly, in linear time, without a regex engine.

/// The scheme prefix every PowerAuth header value starts with.
pub const PREFIX: &str = "PowerAuth ";

/// The fields of one header value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderFields(Vec<(String, String)>);

impl HeaderFields {
    /// Parses a header value; `None` when it does not start with `PowerAuth `.
    pub fn parse(header_value: &str) -> Option<Self> {
        let trimmed = java_trim(header_value);
        let rest = java_trim(trimmed.strip_prefix(PREFIX)?);
        Some(Self(scan(rest)))
    }

    /// The value of `key` (exact, case-sensitive name); the last one when repeated.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every field in the order found.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Builds `PowerAuth k1="v1", k2="v2"`, the form every Wultra builder emits.
pub fn build(fields: &[(&str, &str)]) -> String {
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{PREFIX}{}", body.join(", "))
}

/// Java's `String.trim()`: strips every character up to U+0020 from both ends.
fn java_trim(text: &str) -> &str {
    text.trim_matches(|c: char| c <= ' ')
}

/// Java's `\w` without the Unicode flag.
fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Java's `\s` without the Unicode flag.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// Every match of the Java pattern, as `Matcher.find()` walks them.
///
/// Working on bytes is exact: every byte the pattern tests for is ASCII, so match
/// boundaries always fall on character boundaries.
fn scan(text: &str) -> Vec<(String, String)> {
    let bytes = text.as_bytes();
    let len = bytes.len();
    // next_quote[i] / next_space[i]: the first index >= i holding that byte class (or len).
    let mut next_quote = vec![len; len + 1];
    let mut next_space = vec![len; len + 1];
    for i in (0..len).rev() {
        next_quote[i] = if bytes[i] == b'"' {
            i
        } else {
            next_quote[i + 1]
        };
        next_space[i] = if is_space(bytes[i]) {
            i
        } else {
            next_space[i + 1]
        };
    }

    let mut fields = Vec::new();
    let mut pos = 0;
    while pos < len {
        match match_at(bytes, pos, &next_quote, &next_space) {
            Ok((key, value, end)) => {
                fields.push((text[key].to_string(), text[value].to_string()));
                pos = end;
            }
            // A failed start inside a word fails the same way at every later start in
            // that word (the rest of the pattern sees the same text), so skip it whole.
            Err(word_end) => pos = word_end.max(pos + 1),
        }
    }
    fields
}

type Span = std::ops::Range<usize>;

/// One attempt of the pattern at `start`: the key and value spans and the match end, or
/// where the key's word ends when it fails.
fn match_at(
    bytes: &[u8],
    start: usize,
    next_quote: &[usize],
    next_space: &[usize],
) -> Result<(Span, Span, usize), usize> {
    let len = bytes.len();
    // (\w+)= : backtracking into \w+ cannot help, as '=' is not a word character.
    let mut i = start;
    while i < len && is_word(bytes[i]) {
        i += 1;
    }
    if i == start || bytes.get(i) != Some(&b'=') {
        return Err(i);
    }
    let key = start..i;
    let quotes_start = i + 1;
    let mut quotes_end = quotes_start;
    while quotes_end < len && bytes[quotes_end] == b'"' {
        quotes_end += 1;
    }
    // "* is greedy: try the most quotes first, then give them back one by one.
    for q in (quotes_start..=quotes_end).rev() {
        // Alternative 1: (?<=")[^"]+(?=") — after a quote, up to the next quote.
        if q > quotes_start {
            let close = next_quote[q];
            if close > q && close < len {
                let mut end = close;
                while end < len && bytes[end] == b'"' {
                    end += 1;
                }
                return Ok((key, q..close, end));
            }
        }
        // Alternative 2: [^\s]+ — up to the next whitespace; ",*\"*" then match nothing.
        let stop = next_space[q];
        if stop > q {
            return Ok((key, q..stop, stop));
        }
    }
    Err(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(value: &str) -> Vec<(String, String)> {
        HeaderFields::parse(value).map(|f| f.0).unwrap_or_default()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_what_the_builder_writes() {
        let value = build(&[("a", "1"), ("b_2", "x==")]);
        assert_eq!(value, "PowerAuth a=\"1\", b_2=\"x==\"");
        assert_eq!(fields(&value), pairs(&[("a", "1"), ("b_2", "x==")]));
    }

    #[test]
    fn tolerates_what_java_tolerates() {
        // Missing comma, missing quotes, extra spaces.
        assert_eq!(
            fields("  PowerAuth a=\"1\" b=2   c=\"3\",d=\"4\"\t"),
            pairs(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")])
        );
        // An unquoted value keeps its trailing comma, as in Java.
        assert_eq!(
            fields("PowerAuth a=1, b=2"),
            pairs(&[("a", "1,"), ("b", "2")])
        );
        // An empty quoted value swallows up to the next quote.
        assert_eq!(fields("PowerAuth a=\"\", b=\"x\""), pairs(&[("a", ", b=")]));
        // A lone quote is a value.
        assert_eq!(fields("PowerAuth a=\""), pairs(&[("a", "\"")]));
        assert_eq!(fields("PowerAuth a= b=1"), pairs(&[("b", "1")]));
        // Later duplicates win.
        let parsed = HeaderFields::parse("PowerAuth a=\"1\", a=\"2\"").unwrap();
        assert_eq!(parsed.get("a"), Some("2"));
        assert_eq!(parsed.get("A"), None);
    }

    #[test]
    fn needs_the_prefix() {
        assert!(HeaderFields::parse("Bearer a=\"1\"").is_none());
        assert!(HeaderFields::parse("powerauth a=\"1\"").is_none());
        assert!(HeaderFields::parse("PowerAuth").is_none());
        assert_eq!(fields("PowerAuth "), vec![]);
    }

    #[test]
    fn non_ascii_is_plain_text() {
        assert_eq!(
            fields("PowerAuth é=1 a=\"ü\" b=ß"),
            pairs(&[("a", "ü"), ("b", "ß")])
        );
    }
}
