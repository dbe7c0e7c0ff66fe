//! `--fault NAME[=VALUE]`: the fault to inject, and how its report is printed.

use tokensim_device::{Fault, FaultReport};

/// The fault names `--fault` takes, with their default values.
pub const NAMES: &str = "wrong-pin, replay, clock-skew[=MS] (default 600000), stale-counter[=N] (default 25), corrupted-mac, dropped-response, slow-network[=MS] (default 1500)";

/// Parses `--fault`.
pub fn parse(text: &str) -> Result<Fault, String> {
    let (name, value) = match text.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (text, None),
    };
    let number = |default: i64| -> Result<i64, String> {
        value.map_or(Ok(default), |v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| format!("{name} takes a whole number, not {v:?}"))
        })
    };
    let positive = |default: i64| -> Result<u64, String> {
        u64::try_from(number(default)?).map_err(|_| format!("{name} takes a positive number"))
    };
    let fault = match name {
        "wrong-pin" => Fault::WrongPin,
        "replay" | "replay-signature" => Fault::ReplaySignature,
        "clock-skew" => Fault::ClockSkew(number(600_000)?),
        "stale-counter" => Fault::StaleCounter(
            u32::try_from(positive(25)?).map_err(|_| "stale-counter is too large".to_owned())?,
        ),
        "corrupted-mac" | "corrupt-mac" => Fault::CorruptMac,
        "dropped-response" | "drop-response" => Fault::DropResponse,
        "slow-network" => Fault::SlowNetwork(positive(1_500)?),
        _ => return Err(format!("unknown fault {name:?}; faults: {NAMES}")),
    };
    if value.is_some()
        && matches!(
            fault,
            Fault::WrongPin | Fault::ReplaySignature | Fault::CorruptMac | Fault::DropResponse
        )
    {
        return Err(format!("{name} takes no value"));
    }
    Ok(fault)
}

/// The report as text for a terminal.
pub fn report_text(report: &FaultReport) -> String {
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
