//! Command output. A command whose output goes into a pipe that is closed (`kubectl vc list |
//! head -1`) ends quietly with success, as other command-line tools end on SIGPIPE, instead of
//! failing on the write.

use std::io::{ErrorKind, Write};

/// Writes to stdout, with a newline when `newline`; exits on a closed pipe.
pub fn write(args: std::fmt::Arguments, newline: bool) {
    let mut out = std::io::stdout().lock();
    let result = out
        .write_fmt(args)
        .and_then(|()| if newline { out.write_all(b"\n") } else { Ok(()) })
        .and_then(|()| out.flush());
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("error: writing the output: {e}");
            std::process::exit(1);
        }
    }
}

/// `println!` for command output (see the module).
#[macro_export]
macro_rules! outln {
    () => { $crate::output::write(format_args!(""), true) };
    ($($arg:tt)*) => { $crate::output::write(format_args!($($arg)*), true) };
}

/// `print!` for command output (see the module).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write(format_args!($($arg)*), false) };
}
