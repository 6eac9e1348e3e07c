//! Conformance checks of the `oom` group (vectors-format.md §5). Each maps a check's inputs onto engine functions.

use crate::conformance::CheckFn;

/// The checks this module implements, by name.
pub fn lookup(_check: &str) -> Option<CheckFn> {
    None
}
