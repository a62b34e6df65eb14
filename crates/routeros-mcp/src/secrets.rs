//! Reading passwords and keys from the sources the CLI allows: standard input (without echo on
//! a terminal) or a named environment variable — never argv.

use std::io::{BufRead, IsTerminal};

use anyhow::Result;
use vault::SecretString;

use crate::UsageError;
use crate::cli::PasswordSource;

/// Reads the password named by `source`. Empty passwords are refused.
pub fn read_password(source: &PasswordSource) -> Result<SecretString> {
    read_password_from(source.password_stdin, source.password_env.as_deref())
}

/// Reads a password from standard input or the named variable.
pub fn read_password_from(stdin: bool, env: Option<&str>) -> Result<SecretString> {
    let text = match (env, stdin) {
        (Some(var), _) => read_env(var)?,
        (None, true) => read_stdin("password")?,
        (None, false) => {
            return Err(UsageError("give --password-stdin or --password-env VAR".into()).into());
        }
    };
    if text.is_empty() {
        return Err(UsageError("the password is empty".into()).into());
    }
    Ok(SecretString::from(text))
}

/// The value of environment variable `var`, which must be set and non-empty.
pub fn read_env(var: &str) -> Result<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        Ok(_) => Err(UsageError(format!("environment variable {var} is empty")).into()),
        Err(std::env::VarError::NotPresent) => {
            Err(UsageError(format!("environment variable {var} is not set")).into())
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(UsageError(format!("environment variable {var} is not valid UTF-8")).into())
        }
    }
}

/// One line from stdin (its line ending removed). On a terminal it prompts without echo.
fn read_stdin(what: &str) -> Result<String> {
    if std::io::stdin().is_terminal() {
        let text = rpassword::prompt_password(format!("{what}: "))?;
        return Ok(text);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    Ok(trimmed.to_owned())
}
