//! Answering login questions at the terminal: the [`Prompter`] the CLI hands
//! to destinations when a person is there. Hidden answers (passwords,
//! one-time codes, passphrases) are read without echo and go straight into
//! a zeroizing [`Secret`]; with no terminal on
//! stdin every question fails with "no terminal", so a scheduled job never
//! waits for input that cannot come.

use recpipe::destination::{NoTerminal, PromptError, Prompter, Secret};
use std::io::{BufRead, IsTerminal, Write};
use zeroize::Zeroizing;

/// Asks on the terminal.
pub struct Terminal;

impl Prompter for Terminal {
    fn ask(&self, question: &str, echo: bool) -> Result<Secret, PromptError> {
        if !std::io::stdin().is_terminal() {
            return Err(PromptError::NoTerminal);
        }
        if echo {
            let mut err = std::io::stderr();
            write!(err, "{question}")?;
            err.flush()?;
            // Room enough that reading does not reallocate (and leave an
            // unwiped copy behind); wiped on every path out.
            let mut line = Zeroizing::new(String::with_capacity(1024));
            if std::io::stdin().lock().read_line(&mut line)? == 0 {
                return Err(PromptError::Declined);
            }
            let len = line.trim_end_matches(['\r', '\n']).len();
            line.truncate(len);
            Ok(Secret::new(std::mem::take(&mut *line)))
        } else {
            Ok(Secret::new(rpassword::prompt_password(question)?))
        }
    }
}

/// The prompter for this run: the terminal if stdin is one, else nobody.
pub fn for_this_run() -> Box<dyn Prompter> {
    if std::io::stdin().is_terminal() {
        Box::new(Terminal)
    } else {
        Box::new(NoTerminal)
    }
}

/// Asks a yes/no question on the terminal; `None` when there is none.
pub fn confirm(question: &str) -> Option<bool> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok()?;
    Some(matches!(line.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
}
