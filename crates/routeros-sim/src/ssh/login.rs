//! Login-name options: RouterOS lets an SSH client append console options to the user name after
//! a `+` (`admin+ct511w4098h`, which is what netmiko sends).
//!
//! Letters switch features off or on, numbers before `w`/`h` set the terminal size: `c` no
//! colours, `t` no terminal capability detection, `e` dumb terminal, `w` width, `h` height. The
//! user name before the `+` is the account that authenticates.

/// Console options carried in the login name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginOptions {
    /// `c`: colours off.
    pub no_colors: bool,
    /// `t`: no terminal auto-detection (no probe escape sequences are sent).
    pub no_detect: bool,
    /// `e`: dumb terminal mode.
    pub dumb: bool,
    /// `<N>w`: terminal width in columns.
    pub width: Option<u32>,
    /// `<N>h`: terminal height in rows.
    pub height: Option<u32>,
}

/// Splits `login` into the account name and the console options after `+`. Unknown letters are
/// ignored, as RouterOS does.
pub fn parse_login(login: &str) -> (&str, LoginOptions) {
    let Some((user, opts)) = login.split_once('+') else {
        return (login, LoginOptions::default());
    };
    let mut o = LoginOptions::default();
    let mut num: Option<u32> = None;
    for c in opts.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(num.unwrap_or(0).saturating_mul(10).saturating_add(d));
            continue;
        }
        match c {
            'c' => o.no_colors = true,
            't' => o.no_detect = true,
            'e' => o.dumb = true,
            'w' => o.width = num,
            'h' => o.height = num,
            _ => {}
        }
        num = None;
    }
    (user, o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmiko_login_name_is_split() {
        let (user, o) = parse_login("admin+ct511w4098h");
        assert_eq!(user, "admin");
        assert!(o.no_colors && o.no_detect && !o.dumb);
        assert_eq!((o.width, o.height), (Some(511), Some(4098)));
    }

    #[test]
    fn plain_names_have_no_options() {
        assert_eq!(
            parse_login("operator"),
            ("operator", LoginOptions::default())
        );
        let (user, o) = parse_login("admin+cet1024w");
        assert_eq!(user, "admin");
        assert!(o.dumb);
        assert_eq!(o.width, Some(1024));
    }
}
