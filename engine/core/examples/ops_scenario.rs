//! Run an `ops` scenario file ({machine, ops, observe}) and print what the engine observes (for writing vectors).
fn main() {
    let path = std::env::args().nth(1).expect("usage: ops_scenario FILE.json");
    let text = std::fs::read_to_string(path).expect("readable file");
    match oomsim_core::conformance::checks::ops::run_scenario_json(&text) {
        Ok(v) => println!("{v}"),
        Err(e) => eprintln!("{e}"),
    }
}
