# Sourced by scripts/test.sh, test-windows.sh and test-packages.sh: the one
# set of compiler settings of the test builds, so that each script reuses the
# build another made (any difference in these makes cargo rebuild
# everything) instead of each script adding its own.
#
# clippy compiles recpipe's own code (its lints are warnings, and warnings
# are errors); dependencies are compiled by rustc, their lints capped by
# cargo. A test build from scratch gains nothing from incremental
# compilation, and line tables are all a failing test's backtrace needs.
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy >&2
RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver)
case " ${RUSTFLAGS:-} " in
    *" -D warnings "*) ;;
    *) RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-D warnings" ;;
esac
CARGO_INCREMENTAL=0
CARGO_PROFILE_DEV_DEBUG=line-tables-only
export RUSTC_WORKSPACE_WRAPPER RUSTFLAGS CARGO_INCREMENTAL CARGO_PROFILE_DEV_DEBUG
