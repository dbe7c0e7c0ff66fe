//! `--fault NAME[=VALUE]`: the fault to inject, and how its report is printed.

use tokensim_device::{Fault, FaultReport};

/// Parses `--fault NAME[=VALUE]` by the engine's fault catalogue (names, aliases, defaults).
pub(crate) fn parse(text: &str) -> Result<Fault, String> {
    text.parse()
}

/// The report as text for a terminal.
pub(crate) fn report_text(report: &FaultReport) -> String {
    let mut out = format!("fault: {}\n", report.fault);
    for sent in &report.sent {
        out.push_str(&format!("  sent:     {sent}\n"));
    }
    out.push_str(&format!("  answered: {}\n", report.answered));
    out.push_str(&format!("  required: {}\n", report.required));
    out.push_str(if report.matched {
        "  verdict:  as the protocol requires\n"
    } else {
        "  verdict:  NOT what the protocol requires\n"
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values() {
        assert_eq!(parse("wrong-pin"), Ok(Fault::WrongPin));
        assert_eq!(parse("replay"), Ok(Fault::ReplaySignature));
        assert_eq!(parse("clock-skew=-5000"), Ok(Fault::ClockSkew(-5000)));
        assert_eq!(parse("stale-counter"), Ok(Fault::StaleCounter(25)));
        assert_eq!(parse("slow-network=10"), Ok(Fault::SlowNetwork(10)));
        assert!(parse("slow-network=-1").is_err());
        assert!(parse("wrong-pin=3").is_err());
        assert!(parse("gremlins").unwrap_err().contains("wrong-pin"));
    }
}
