//! Matching an expected value against the actual one (vectors-format.md §3.2): objects match partially, lists
//! exactly except the key `log` (an ordered subsequence), scalars by equality (an int never equals a bool; numbers
//! compare numerically), and the matchers `{"prefix": s}` and `{"at_least": n}`.

use serde_json::{Number, Value};

fn num_eq(a: &Number, b: &Number) -> bool {
    match (as_i128(a), as_i128(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.as_f64() == b.as_f64(),
    }
}

pub fn as_i128(n: &Number) -> Option<i128> {
    if let Some(i) = n.as_i64() {
        Some(i as i128)
    } else if let Some(u) = n.as_u64() {
        Some(u as i128)
    } else {
        let f = n.as_f64()?;
        if f.fract() == 0.0 && f.abs() < 1e30 {
            Some(f as i128)
        } else {
            None
        }
    }
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 200 {
        format!("{}…", &s[..200])
    } else {
        s
    }
}

/// Is `v` a matcher object (`{"prefix": ..}` or `{"at_least": ..}`)?
fn as_matcher(v: &Value) -> Option<(&str, &Value)> {
    let o = v.as_object()?;
    if o.len() != 1 {
        return None;
    }
    let (k, val) = o.iter().next()?;
    match k.as_str() {
        "prefix" if val.is_string() => Some(("prefix", val)),
        "at_least" if val.is_number() => Some(("at_least", val)),
        _ => None,
    }
}

/// Match one element (used for list elements and object values). `path` names the place for the failure message.
pub fn match_value(path: &str, expected: &Value, actual: &Value) -> Result<(), String> {
    let here = if path.is_empty() { "result".to_string() } else { path.to_string() };
    if let Some((kind, arg)) = as_matcher(expected) {
        if !actual.is_object() {
            return match (kind, actual) {
                ("prefix", Value::String(s)) if s.starts_with(arg.as_str().unwrap()) => Ok(()),
                ("at_least", Value::Number(n)) => match (as_i128(n), arg.as_number().and_then(as_i128)) {
                    (Some(a), Some(m)) if a >= m => Ok(()),
                    _ => Err(format!("{here}: expected at least {}, got {}", show(arg), show(actual))),
                },
                _ => Err(format!("{here}: expected {} , got {}", show(expected), show(actual))),
            };
        }
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let sub = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match a.get(k) {
                    None => return Err(format!("{sub}: expected {}, but the result has no such key", show(ev))),
                    Some(av) => {
                        if k == "log" {
                            match_log(&sub, ev, av)?;
                        } else {
                            match_value(&sub, ev, av)?;
                        }
                    }
                }
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Err(format!("{here}: expected a list of {} ({}), got {} ({})", e.len(), show(expected), a.len(), show(actual)));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                match_value(&format!("{here}[{i}]"), ev, av)?;
            }
            Ok(())
        }
        (Value::Number(e), Value::Number(a)) if num_eq(e, a) => Ok(()),
        (Value::String(e), Value::String(a)) if e == a => Ok(()),
        (Value::Bool(e), Value::Bool(a)) if e == a => Ok(()),
        (Value::Null, Value::Null) => Ok(()),
        _ => Err(format!("{here}: expected {}, got {}", show(expected), show(actual))),
    }
}

/// `log`: each expected element must match some actual line, in order, with other lines in between.
fn match_log(path: &str, expected: &Value, actual: &Value) -> Result<(), String> {
    let (Some(e), Some(a)) = (expected.as_array(), actual.as_array()) else {
        return match_value(path, expected, actual);
    };
    let mut next = 0;
    for (i, ev) in e.iter().enumerate() {
        let found = a[next..].iter().position(|av| match_value("", ev, av).is_ok());
        match found {
            Some(p) => next += p + 1,
            None => {
                return Err(format!(
                    "{path}[{i}]: no log line matching {} after line {next} of {}; lines: {}",
                    show(ev),
                    a.len(),
                    a.iter().map(|l| l.as_str().unwrap_or("?")).collect::<Vec<_>>().join(" | ")
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_match_partially_lists_exactly() {
        assert!(match_value("", &json!({"a": 1}), &json!({"a": 1, "b": 2})).is_ok());
        assert!(match_value("", &json!({"c": 1}), &json!({"a": 1})).is_err());
        assert!(match_value("", &json!([1, 2]), &json!([1, 2, 3])).is_err());
        assert!(match_value("", &json!([1, 2]), &json!([1, 2])).is_ok());
    }

    #[test]
    fn scalars() {
        assert!(match_value("", &json!(2.0), &json!(2)).is_ok());
        assert!(match_value("", &json!(1), &json!(true)).is_err());
        assert!(match_value("", &json!(9223372036854771712u64), &json!(9223372036854771712u64)).is_ok());
        assert!(match_value("", &json!(9223372036854771712u64), &json!(9223372036854771713u64)).is_err());
        assert!(match_value("", &json!(null), &json!(null)).is_ok());
        assert!(match_value("", &json!(null), &json!(0)).is_err());
    }

    #[test]
    fn matchers() {
        assert!(match_value("", &json!({"prefix": "Out of"}), &json!("Out of memory")).is_ok());
        assert!(match_value("", &json!({"prefix": "Out of"}), &json!("Killed")).is_err());
        assert!(match_value("", &json!({"at_least": 3}), &json!(3)).is_ok());
        assert!(match_value("", &json!({"at_least": 3}), &json!(2)).is_err());
    }

    #[test]
    fn log_is_an_ordered_subsequence() {
        let actual = json!({"log": ["a1", "x", "b2", "c3"]});
        assert!(match_value("", &json!({"log": ["a1", {"prefix": "c"}]}), &actual).is_ok());
        assert!(match_value("", &json!({"log": [{"prefix": "c"}, "a1"]}), &actual).is_err());
        assert!(match_value("", &json!({"log": []}), &actual).is_ok());
    }
}
