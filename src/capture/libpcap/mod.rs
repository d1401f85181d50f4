//! libpcap, loaded when first needed rather than linked.
//!
//! Only live capture, `interfaces` and BPF filters (`-f`) need libpcap;
//! reading files and probing do not. Loading it at run time means the binary
//! builds and runs on a machine without libpcap (neither the runtime nor the
//! -dev package), `cargo install` works anywhere, and a missing library is
//! one clear message naming the package to install instead of a link error
//! or a loader failure before `main`.
//!
//! `BTCSNIFF_LIBPCAP=/path/to/libpcap.so.X` picks a library explicitly (also
//! how the tests check the message for a missing one).

// A C library: every call is `unsafe`; each says why it is sound.
#![allow(unsafe_code)]

mod ffi;
mod handle;

pub use ffi::{PktHdr, Stat};
pub use handle::{Activated, Device, Handle, OfflineFilter, PcapError};

use std::ffi::{CStr, c_char};
use std::sync::OnceLock;

/// Sonames tried in order: libpcap 1.x's, Debian's historic one, then the
/// unversioned development symlink.
const SONAMES: &[&str] = &["libpcap.so.1", "libpcap.so.0.8", "libpcap.so"];

/// Environment variable naming the library file to load instead.
pub const PATH_VARIABLE: &str = "BTCSNIFF_LIBPCAP";

/// The loaded library and its functions. Never unloaded: the function
/// pointers stay valid for the life of the process.
pub struct Library {
    functions: ffi::Functions,
    /// Kept so the code stays mapped.
    _library: libloading::Library,
}

/// Why libpcap is not available, with what to do about it.
#[derive(Debug, Clone)]
pub struct Unavailable {
    tried: Vec<String>,
    detail: String,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "libpcap is not installed ({}: {}); live capture, `interfaces` and -f filters \
             need its runtime library: apt-get install libpcap0.8 (Debian, Ubuntu), \
             dnf install libpcap (Fedora), apk add libpcap (Alpine); reading files and \
             probing work without it",
            self.tried.join(", "),
            self.detail
        )
    }
}

impl std::error::Error for Unavailable {}

/// The process-wide libpcap, loaded on first use.
pub fn library() -> Result<&'static Library, Unavailable> {
    static LIBRARY: OnceLock<Result<Library, Unavailable>> = OnceLock::new();
    LIBRARY.get_or_init(load).as_ref().map_err(Clone::clone)
}

fn load() -> Result<Library, Unavailable> {
    let candidates: Vec<String> = match std::env::var(PATH_VARIABLE) {
        Ok(path) if !path.is_empty() => vec![path],
        _ => SONAMES.iter().map(|s| (*s).to_string()).collect(),
    };
    let mut detail = String::from("not found");
    for name in &candidates {
        // SAFETY: loading libpcap runs its initialisers, which have no
        // preconditions; the symbols are checked against the declared
        // signatures by name (libpcap's ABI is stable since 1.0).
        match unsafe { libloading::Library::new(name) } {
            Ok(library) => {
                // SAFETY: `library` is libpcap (loaded by its soname).
                let functions =
                    unsafe { ffi::Functions::resolve(&library) }.map_err(|e| Unavailable {
                        tried: vec![name.clone()],
                        detail: format!("too old or not libpcap: {e}"),
                    })?;
                return Ok(Library {
                    functions,
                    _library: library,
                });
            }
            Err(e) => detail = e.to_string(),
        }
    }
    Err(Unavailable {
        tried: candidates,
        detail,
    })
}

impl Library {
    /// libpcap's own version string (`pcap_lib_version`).
    pub fn version(&self) -> String {
        // SAFETY: returns a static NUL-terminated string.
        unsafe { c_string((self.functions.lib_version)()) }.unwrap_or_default()
    }

    /// tcpdump's name for a link type (`EN10MB`, `LINUX_SLL2`, ...).
    pub fn link_type_name(&self, dlt: u32) -> Option<String> {
        let dlt = i32::try_from(dlt).ok()?;
        // SAFETY: returns a static string, or NULL for unknown values.
        unsafe { c_string((self.functions.datalink_val_to_name)(dlt)) }
    }
}

/// Copies a C string libpcap returned (NULL → None).
///
/// # Safety
/// `ptr` is NULL or a valid NUL-terminated string.
unsafe fn c_string(ptr: *const c_char) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    Some(
        unsafe { CStr::from_ptr(ptr) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// The text of an error buffer libpcap filled.
fn errbuf_text(buf: &[c_char; ffi::ERRBUF_SIZE]) -> String {
    let bytes: Vec<u8> = buf
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c.to_ne_bytes()[0])
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}
