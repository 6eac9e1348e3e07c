//! The conformance runner: evaluates kernel "worked example" vectors (format: ../shared/spec/vectors-format.md)
//! against the engine. It dispatches on each vector's `check` only; no vector id is ever interpreted. A check it
//! does not implement is reported as unsupported with the reason, never skipped.
//!
//! Each check is a function from the (default-filled) inputs object to a result object; the runner expands
//! `cases`, compares the result with `expected` by the format's matching rules (§3.2) and reports one line per
//! vector.

pub mod checks;
pub mod input;
pub mod matcher;

use serde_json::{Map, Value};

/// What a check returns when it cannot produce a result.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckError {
    /// The check (or this combination of inputs) is not modelled yet; the reason says what is missing.
    Unsupported(String),
    /// The inputs break the format (wrong type, missing required key).
    Invalid(String),
}

pub type CheckResult = Result<Value, CheckError>;
/// A check: inputs (one case, `cases` already merged) to a result object.
pub type CheckFn = fn(&Map<String, Value>) -> CheckResult;

/// Input key under which the runner hands the `ops` check the observations the vector requests.
pub const OBSERVE_KEY: &str = "__observe";

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass,
    Fail(String),
    Unsupported(String),
    DocOnly(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: String,
    pub area: String,
    pub check: String,
    pub outcome: Outcome,
}

impl Report {
    /// One line per vector, as the runner prints it.
    pub fn line(&self) -> String {
        match &self.outcome {
            Outcome::Pass => format!("PASS {} [{}]", self.id, self.check),
            Outcome::Fail(why) => format!("FAIL {} [{}]: {}", self.id, self.check, why),
            Outcome::Unsupported(why) => format!("UNSUPPORTED {} [{}]: {}", self.id, self.check, why),
            Outcome::DocOnly(why) => format!("DOC-ONLY {}: {}", self.id, why),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub unsupported: usize,
    pub doc_only: usize,
}

impl Summary {
    pub fn of(reports: &[Report]) -> Summary {
        let mut s = Summary::default();
        for r in reports {
            match r.outcome {
                Outcome::Pass => s.passed += 1,
                Outcome::Fail(_) => s.failed += 1,
                Outcome::Unsupported(_) => s.unsupported += 1,
                Outcome::DocOnly(_) => s.doc_only += 1,
            }
        }
        s
    }
    pub fn line(&self) -> String {
        let mut l = format!("{} passed, {} failed, {} unsupported", self.passed, self.failed, self.unsupported);
        if self.doc_only > 0 {
            l.push_str(&format!(", {} doc-only", self.doc_only));
        }
        l
    }
}

/// Parse a vector file (a JSON array) and evaluate every vector in it. Integers are parsed exactly (serde_json keeps
/// i64/u64), so values above 2^53 compare losslessly.
pub fn run_text(text: &str) -> Result<Vec<Report>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let arr = v.as_array().ok_or("a vector file is a JSON array of vector objects")?;
    Ok(arr.iter().enumerate().map(|(i, v)| eval_vector(i, v)).collect())
}

fn str_field(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

/// Evaluate one vector.
pub fn eval_vector(index: usize, v: &Value) -> Report {
    let mut id = str_field(v, "id");
    if id.is_empty() {
        id = format!("<vector #{index}>");
    }
    let area = str_field(v, "area");
    let check = str_field(v, "check");
    let report = |outcome| Report { id: id.clone(), area: area.clone(), check: check.clone(), outcome };

    if v.get("doc_only").and_then(Value::as_bool) == Some(true) {
        return report(Outcome::DocOnly(str_field(v, "why")));
    }
    let Some(f) = checks::lookup(&check) else {
        return report(Outcome::Unsupported(format!("check `{check}` is not implemented by this engine yet")));
    };
    let (Some(inputs), Some(expected)) = (v.get("inputs").and_then(Value::as_object), v.get("expected").and_then(Value::as_object)) else {
        return report(Outcome::Fail("vector lacks an `inputs` or `expected` object".into()));
    };

    // The `ops` check takes its observations after the ops the vector names (vectors-format.md §6.4), so its
    // executor is told which observations are requested: the expected object's structure (op indices, keys,
    // pids, regions, field names) is passed under `OBSERVE_KEY`. The executor computes every value from the engine.
    let with_observe;
    let inputs = if check == "ops" {
        let mut m = inputs.clone();
        m.insert(OBSERVE_KEY.into(), Value::Object(expected.clone()));
        with_observe = m;
        &with_observe
    } else {
        inputs
    };
    match inputs.get("cases") {
        None => report(run_case(f, inputs, expected, None)),
        Some(Value::Array(cases)) => {
            let exp_cases = expected.get("cases").and_then(Value::as_array);
            if let Some(ec) = exp_cases {
                if ec.len() != cases.len() {
                    return report(Outcome::Fail(format!("expected.cases has {} entries for {} input cases", ec.len(), cases.len())));
                }
            }
            for (k, case) in cases.iter().enumerate() {
                let Some(case) = case.as_object() else {
                    return report(Outcome::Fail(format!("inputs.cases[{k}] is not an object")));
                };
                let mut inp = inputs.clone();
                inp.remove("cases");
                for (key, val) in case {
                    inp.insert(key.clone(), val.clone());
                }
                let mut exp = expected.clone();
                exp.remove("cases");
                if let Some(ec) = exp_cases {
                    if let Some(o) = ec[k].as_object() {
                        for (key, val) in o {
                            exp.insert(key.clone(), val.clone());
                        }
                    }
                }
                match run_case(f, &inp, &exp, Some(k)) {
                    Outcome::Pass => {}
                    other => return report(other),
                }
            }
            report(Outcome::Pass)
        }
        Some(_) => report(Outcome::Fail("inputs.cases is not a list".into())),
    }
}

fn run_case(f: CheckFn, inputs: &Map<String, Value>, expected: &Map<String, Value>, case: Option<usize>) -> Outcome {
    let prefix = case.map(|k| format!("case {k}: ")).unwrap_or_default();
    match f(inputs) {
        Err(CheckError::Unsupported(why)) => Outcome::Unsupported(format!("{prefix}{why}")),
        Err(CheckError::Invalid(why)) => Outcome::Fail(format!("{prefix}invalid inputs: {why}")),
        Ok(actual) => match matcher::match_value("", &Value::Object(expected.clone()), &actual) {
            Ok(()) => Outcome::Pass,
            Err(why) => Outcome::Fail(format!("{prefix}{why}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_check_is_unsupported_not_skipped() {
        let r = run_text(r#"[{"id":"x","area":"a","check":"no_such_check","inputs":{},"expected":{},"source":""}]"#).unwrap();
        assert!(matches!(r[0].outcome, Outcome::Unsupported(ref w) if w.contains("no_such_check")));
        assert_eq!(Summary::of(&r).line(), "0 passed, 0 failed, 1 unsupported");
    }

    #[test]
    fn doc_only_is_reported_as_such() {
        let r = run_text(r#"[{"id":"x","area":"a","check":"ops","inputs":{},"expected":{},"source":"","doc_only":true,"why":"w"}]"#).unwrap();
        assert_eq!(r[0].outcome, Outcome::DocOnly("w".into()));
    }

    #[test]
    fn not_an_array_is_an_error() {
        assert!(run_text("{}").is_err());
        assert!(run_text("[").is_err());
    }
}
