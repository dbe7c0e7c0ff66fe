//! [`diff`]: which fields differ between two states of a device (snapshots), secrets
//! redacted: a secret field says only that it changed, and `CTR_DATA` how many steps it
//! moved.

use super::DeviceState;
use powerauth::CtrData;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// How far [`diff`] follows `CTR_DATA` to tell how many steps it moved.
pub const CTR_SEARCH_STEPS: u32 = 10_000;

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldChange {
    /// The field's path, e.g. `activation.counter` or `secrets.activation.ctrData`.
    pub field: String,
    /// Its value before (absent: not there, or secret).
    pub before: Option<String>,
    /// Its value after (absent: not there, or secret).
    pub after: Option<String>,
    /// Whether the field is secret (its values are never shown).
    pub secret: bool,
    /// What changed, in words: `added`, `removed`, `changed`, or for `CTR_DATA` the steps.
    pub note: String,
}

/// The fields that differ from `before` to `after`, sorted by path. Secret fields carry
/// no value.
pub fn diff(before: &DeviceState, after: &DeviceState) -> Vec<FieldChange> {
    let (a, b) = (fields(before), fields(after));
    let mut paths: Vec<&String> = a.keys().chain(b.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut changes = Vec::new();
    for path in paths {
        let (old, new) = (a.get(path), b.get(path));
        if old == new {
            continue;
        }
        let secret = path.starts_with("secrets.");
        let note = match (old, new) {
            (None, _) => "added".to_owned(),
            (_, None) => "removed".to_owned(),
            _ if path == "secrets.activation.ctrData" => ctr_steps(before, after),
            _ => "changed".to_owned(),
        };
        let shown = |v: Option<&String>| if secret { None } else { v.cloned() };
        changes.push(FieldChange {
            field: path.clone(),
            before: shown(old),
            after: shown(new),
            secret,
            note,
        });
    }
    changes
}

/// Every leaf of the record and of the secret blob, by path.
fn fields(state: &DeviceState) -> BTreeMap<String, String> {
    let (record, blob) = state.to_parts();
    let mut out = BTreeMap::new();
    flatten(
        "",
        &serde_json::to_value(&record).unwrap_or(Value::Null),
        &mut out,
    );
    let secrets: Value = serde_json::from_slice(&blob).unwrap_or(Value::Null);
    flatten("secrets", &secrets, &mut out);
    out
}

fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                flatten(&join(key), inner, out);
            }
        }
        Value::Null => {}
        Value::String(text) => {
            out.insert(prefix.to_owned(), text.clone());
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

/// How many steps `CTR_DATA` moved from `before` to `after`, in words.
fn ctr_steps(before: &DeviceState, after: &DeviceState) -> String {
    let (DeviceState::Active(a), DeviceState::Active(b)) = (before, after) else {
        return "changed".to_owned();
    };
    match (
        steps(&a.ctr_data, &b.ctr_data),
        steps(&b.ctr_data, &a.ctr_data),
    ) {
        (Some(n), _) => format!("moved {} forward", plural(n)),
        (_, Some(n)) => format!("moved {} back", plural(n)),
        _ => format!("changed (not within {CTR_SEARCH_STEPS} steps: another activation's counter)"),
    }
}

fn plural(n: u32) -> String {
    if n == 1 {
        "1 step".to_owned()
    } else {
        format!("{n} steps")
    }
}

fn steps(from: &CtrData, to: &CtrData) -> Option<u32> {
    let mut current = from.clone();
    for n in 0..=CTR_SEARCH_STEPS {
        if current.expose_bytes() == to.expose_bytes() {
            return Some(n);
        }
        current = current.next();
    }
    None
}
