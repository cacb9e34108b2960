//! One way for a test to say that it could not run here: a line
//! `NOT EXERCISED: <test>: <why>` written straight to the test runner's
//! standard error (not captured, so it shows in `cargo test`'s own output
//! beside the test's `ok`), and under `CI=true` a failure instead, so a
//! test cannot pass in CI by not running.

use std::io::Write;

/// Reports that the running test did not run because of `why` (the test
/// is named from its thread, which the test harness names after it);
/// panics under `CI=true`. Call it and return at once.
pub fn not_exercised(why: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let msg = format!("NOT EXERCISED: {test}: {why}");
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
    // Not eprintln!: the test harness captures that and shows it only
    // for failed tests.
    let _ = writeln!(std::io::stderr(), "{msg}");
}
