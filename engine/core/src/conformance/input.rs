//! Typed access to a check's inputs with the defaults of its input table. Every accessor names the key in its
//! error, so a malformed vector fails with a clear message instead of a panic.

use super::CheckError;
use serde_json::{Map, Value};

pub struct Inputs<'a> {
    pub map: &'a Map<String, Value>,
}

fn bad(key: &str, want: &str, v: &Value) -> CheckError {
    CheckError::Invalid(format!("inputs.{key}: expected {want}, got {v}"))
}

impl<'a> Inputs<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Self {
        let _ = map.get("page_size"); // the only valid page_size is 4096; checked by `check_page_size`
        Inputs { map }
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_null())
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    /// Every check accepts `page_size`, whose only valid value is 4096.
    pub fn check_page_size(&self) -> Result<(), CheckError> {
        match self.map.get("page_size") {
            None => Ok(()),
            Some(v) if v.as_i64() == Some(4096) => Ok(()),
            Some(v) => Err(CheckError::Unsupported(format!("page_size {v}: only 4096-byte pages are simulated"))),
        }
    }

    pub fn i64_req(&self, key: &str) -> Result<i64, CheckError> {
        match self.map.get(key) {
            None => Err(CheckError::Invalid(format!("inputs.{key} is required"))),
            Some(v) => v.as_i64().ok_or_else(|| bad(key, "an integer", v)),
        }
    }

    pub fn i64_or(&self, key: &str, default: i64) -> Result<i64, CheckError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v.as_i64().ok_or_else(|| bad(key, "an integer", v)),
        }
    }

    pub fn u64_req(&self, key: &str) -> Result<u64, CheckError> {
        match self.map.get(key) {
            None => Err(CheckError::Invalid(format!("inputs.{key} is required"))),
            Some(v) => v.as_u64().ok_or_else(|| bad(key, "a non-negative integer", v)),
        }
    }

    pub fn u64_or(&self, key: &str, default: u64) -> Result<u64, CheckError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v.as_u64().ok_or_else(|| bad(key, "a non-negative integer", v)),
        }
    }

    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool, CheckError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| bad(key, "true or false", v)),
        }
    }

    pub fn str_req(&self, key: &str) -> Result<&'a str, CheckError> {
        match self.map.get(key) {
            None => Err(CheckError::Invalid(format!("inputs.{key} is required"))),
            Some(v) => v.as_str().ok_or_else(|| bad(key, "a string", v)),
        }
    }

    pub fn str_or(&self, key: &str, default: &'a str) -> Result<&'a str, CheckError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v.as_str().ok_or_else(|| bad(key, "a string", v)),
        }
    }

    pub fn list_or_empty(&self, key: &str) -> Result<&'a [Value], CheckError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a.as_slice()),
            Some(v) => Err(bad(key, "a list", v)),
        }
    }

    pub fn obj_or_empty(&self, key: &str) -> Result<Option<&'a Map<String, Value>>, CheckError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(v) => Err(bad(key, "an object", v)),
        }
    }
}

/// The special value `"LONG_MIN"` (unkillable badness) as i64::MIN, or a plain integer.
pub fn points_value(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) if s == "LONG_MIN" => Some(i64::MIN),
        Value::String(s) if s == "LONG_MAX" => Some(i64::MAX),
        _ => v.as_i64(),
    }
}

/// i64::MIN as `"LONG_MIN"`, otherwise the integer.
pub fn points_json(p: i64) -> Value {
    if p == i64::MIN {
        Value::String("LONG_MIN".into())
    } else if p == i64::MAX {
        Value::String("LONG_MAX".into())
    } else {
        Value::from(p)
    }
}
