//! The `recpipe` binary: parse the command line, run, exit with the code
//! the library chose. All behaviour lives in the library.

mod cli;

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(cli::main().code())
}
