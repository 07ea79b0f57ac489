//! Links nestor-controllers with packed relative relocations (DT_RELR) where the toolchain has
//! them: a position-independent binary then carries a few KiB of relocations instead of 1.5 MB
//! that every process reads at start, which is a tenth of an idle nestor-controllers' memory.

use std::process::{Command, Stdio};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let linux_gnu = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if linux_gnu && links_with("-Wl,-z,pack-relative-relocs") {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the C compiler that links Rust binaries (binutils 2.38+ and glibc 2.36+ for this
/// flag) links an empty program with `flag`.
fn links_with(flag: &str) -> bool {
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("probe");
    let Ok(mut cc) = Command::new("cc")
        .args(["-x", "c", "-", "-o"])
        .arg(&out)
        .arg(flag)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    if let Some(mut stdin) = cc.stdin.take() {
        use std::io::Write as _;
        let _ = stdin.write_all(b"int main(void) { return 0; }\n");
    }
    cc.wait().is_ok_and(|s| s.success())
}
