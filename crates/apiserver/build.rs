//! Compiles the Kubernetes wire schema under `proto/` into a descriptor set that
//! `src/http/protobuf.rs` embeds, so request bodies in `application/vnd.kubernetes.protobuf`
//! can be decoded without generated Rust types.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() -> Result<(), Box<dyn Error>> {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR unset")?);
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR unset")?);
    let proto_dir = manifest_dir.join("proto");
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-env-changed=PROTOC");

    let mut files = Vec::new();
    collect_protos(&proto_dir, &proto_dir, &mut files)?;
    files.sort();

    // PROTOC overrides the binary, as for prost-build. Debian's protobuf-compiler provides
    // protoc and google/protobuf/descriptor.proto, which nestor/options.proto imports.
    let protoc = std::env::var_os("PROTOC").unwrap_or_else(|| "protoc".into());
    let status = Command::new(&protoc)
        .arg("--include_imports")
        .arg(format!("--descriptor_set_out={}", out_dir.join("k8s.bin").display()))
        .arg("-I")
        .arg(&proto_dir)
        .args(&files)
        .status()
        .map_err(|e| format!("running {protoc:?}: {e} (install protobuf-compiler or set PROTOC)"))?;
    if !status.success() {
        return Err(format!("protoc failed: {status}").into());
    }
    Ok(())
}

/// Lists every `.proto` file under `dir`, relative to `root` (protoc wants include-relative names).
fn collect_protos(root: &Path, dir: &Path, files: &mut Vec<String>) -> Result<(), Box<dyn Error>> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(root, &path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            files.push(path.strip_prefix(root)?.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}
