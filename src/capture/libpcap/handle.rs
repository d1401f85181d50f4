//! Safe wrappers: a capture handle, the interface list, an offline filter.

use super::ffi::{self, BpfProgram, PcapT, PktHdr};
use super::{Library, Unavailable, c_string, errbuf_text, library};
use std::ffi::{CString, c_char, c_int, c_uchar};
use std::ptr::NonNull;

/// An open `pcap_t` (created, and once [`Handle::activate`]d, capturing).
/// Closed when dropped.
pub struct Handle {
    ptr: NonNull<PcapT>,
    lib: &'static Library,
}

// SAFETY: a pcap_t may be used from any thread as long as one thread uses
// it at a time, which `&mut self` on every capturing call guarantees.
unsafe impl Send for Handle {}

/// How `pcap_activate` went when it did not fail.
pub enum Activated {
    Ok,
    /// Capturing, with a warning (e.g. promiscuous mode not supported).
    Warning(String),
}

/// Why a call failed: libpcap's status code (negative) and its message.
#[derive(Debug)]
pub struct PcapError {
    pub code: i32,
    pub message: String,
}

impl std::fmt::Display for PcapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PcapError {}

impl PcapError {
    pub fn is_permission(&self) -> bool {
        matches!(
            self.code,
            ffi::ERROR_PERM_DENIED | ffi::ERROR_PROMISC_PERM_DENIED
        )
    }

    pub fn is_no_such_device(&self) -> bool {
        self.code == ffi::ERROR_NO_SUCH_DEVICE
    }
}

fn c_text(s: &str) -> Result<CString, PcapError> {
    CString::new(s).map_err(|_| PcapError {
        code: ffi::ERROR,
        message: format!("'{}' contains a NUL byte", s.escape_debug()),
    })
}

impl Handle {
    /// `pcap_create` for a device name (`any` for all).
    pub fn create(device: &str) -> Result<Handle, Box<dyn std::error::Error + Send + Sync>> {
        let lib = library()?;
        let name = c_text(device)?;
        let mut errbuf = [0 as c_char; ffi::ERRBUF_SIZE];
        // SAFETY: valid C string and an error buffer of PCAP_ERRBUF_SIZE.
        let ptr = unsafe { (lib.functions.create)(name.as_ptr(), errbuf.as_mut_ptr()) };
        match NonNull::new(ptr) {
            Some(ptr) => Ok(Handle { ptr, lib }),
            None => Err(Box::new(PcapError {
                code: ffi::ERROR,
                message: errbuf_text(&errbuf),
            })),
        }
    }

    fn last_error(&self, code: c_int) -> PcapError {
        // SAFETY: a live handle; geterr returns its NUL-terminated buffer.
        let mut message =
            unsafe { c_string((self.lib.functions.geterr)(self.ptr.as_ptr())) }.unwrap_or_default();
        if message.is_empty() {
            // SAFETY: returns a static string for any code.
            message = unsafe { c_string((self.lib.functions.statustostr)(code)) }
                .unwrap_or_else(|| format!("libpcap error {code}"));
        }
        PcapError { code, message }
    }

    fn check(&self, code: c_int) -> Result<(), PcapError> {
        if code < 0 {
            Err(self.last_error(code))
        } else {
            Ok(())
        }
    }

    /// Options before activation: snapshot length, promiscuous mode, read
    /// timeout (ms), immediate mode, kernel buffer size (bytes).
    pub fn configure(
        &mut self,
        snaplen: i32,
        promisc: bool,
        timeout_ms: i32,
        immediate: bool,
        buffer_bytes: Option<i32>,
    ) -> Result<(), PcapError> {
        let f = &self.lib.functions;
        let p = self.ptr.as_ptr();
        // SAFETY: a created, not yet activated handle; plain integers.
        unsafe {
            self.check((f.set_snaplen)(p, snaplen))?;
            self.check((f.set_promisc)(p, c_int::from(promisc)))?;
            self.check((f.set_timeout)(p, timeout_ms))?;
            self.check((f.set_immediate_mode)(p, c_int::from(immediate)))?;
            if let Some(bytes) = buffer_bytes {
                self.check((f.set_buffer_size)(p, bytes))?;
            }
        }
        Ok(())
    }

    /// `pcap_activate`.
    pub fn activate(&mut self) -> Result<Activated, PcapError> {
        // SAFETY: a created handle.
        let code = unsafe { (self.lib.functions.activate)(self.ptr.as_ptr()) };
        match code {
            0 => Ok(Activated::Ok),
            c if c > 0 => Ok(Activated::Warning(self.last_error(c).message)),
            c => Err(self.last_error(c)),
        }
    }

    /// Non-blocking reads (`pcap_setnonblock`).
    pub fn set_nonblocking(&mut self) -> Result<(), PcapError> {
        let mut errbuf = [0 as c_char; ffi::ERRBUF_SIZE];
        // SAFETY: an activated handle and an error buffer of the right size.
        let code =
            unsafe { (self.lib.functions.setnonblock)(self.ptr.as_ptr(), 1, errbuf.as_mut_ptr()) };
        if code < 0 {
            return Err(PcapError {
                code,
                message: errbuf_text(&errbuf),
            });
        }
        Ok(())
    }

    /// Compiles and installs a BPF filter (optimised, netmask unknown).
    pub fn set_filter(&mut self, expression: &str) -> Result<(), PcapError> {
        let mut program = self.compile(expression)?;
        // SAFETY: an activated handle and a program it compiled.
        let code = unsafe { (self.lib.functions.setfilter)(self.ptr.as_ptr(), &mut program.0) };
        self.check(code)
    }

    fn compile(&mut self, expression: &str) -> Result<Program, PcapError> {
        let text = c_text(expression)?;
        let mut program = Program(
            BpfProgram {
                bf_len: 0,
                bf_insns: std::ptr::null_mut(),
            },
            self.lib,
        );
        // SAFETY: a valid handle, an out-parameter, a C string.
        let code = unsafe {
            (self.lib.functions.compile)(
                self.ptr.as_ptr(),
                &mut program.0,
                text.as_ptr(),
                1,
                ffi::NETMASK_UNKNOWN,
            )
        };
        self.check(code)?;
        Ok(program)
    }

    /// The link type (DLT) of an activated handle.
    pub fn link_type(&self) -> u32 {
        // SAFETY: an activated handle.
        let dlt = unsafe { (self.lib.functions.datalink)(self.ptr.as_ptr()) };
        u32::try_from(dlt).unwrap_or(u32::MAX)
    }

    /// A descriptor to poll() for readability, if the platform has one.
    pub fn selectable_fd(&self) -> Option<i32> {
        // SAFETY: an activated handle.
        let fd = unsafe { (self.lib.functions.get_selectable_fd)(self.ptr.as_ptr()) };
        (fd >= 0).then_some(fd)
    }

    /// Hands up to `max` waiting packets to `each` (`pcap_dispatch`): one
    /// buffer of the memory-mapped ring at a time on Linux. Returns how
    /// many were processed (0 when none were waiting in non-blocking mode).
    pub fn dispatch<F: FnMut(&PktHdr, &[u8])>(
        &mut self,
        max: i32,
        each: &mut F,
    ) -> Result<usize, PcapError> {
        unsafe extern "C" fn trampoline<F: FnMut(&PktHdr, &[u8])>(
            user: *mut c_uchar,
            header: *const PktHdr,
            bytes: *const c_uchar,
        ) {
            // SAFETY: `user` is the `&mut F` passed below, alive for the
            // call; libpcap passes a valid header and `caplen` bytes.
            unsafe {
                let each = &mut *user.cast::<F>();
                let header = &*header;
                let len = usize::try_from(header.caplen).unwrap_or(0);
                let data = if bytes.is_null() || len == 0 {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(bytes, len)
                };
                each(header, data);
            }
        }
        let user: *mut F = each;
        // SAFETY: an activated handle; the callback only runs during this
        // call and gets back exactly the pointer given.
        let n = unsafe {
            (self.lib.functions.dispatch)(
                self.ptr.as_ptr(),
                max,
                trampoline::<F>,
                user.cast::<c_uchar>(),
            )
        };
        if n == ffi::ERROR_BREAK {
            return Ok(0);
        }
        self.check(n)?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// libpcap's counters (`pcap_stats`).
    pub fn stats(&mut self) -> Result<ffi::Stat, PcapError> {
        let mut stat = ffi::Stat::default();
        // SAFETY: an activated handle and an out-parameter.
        let code = unsafe { (self.lib.functions.stats)(self.ptr.as_ptr(), &mut stat) };
        self.check(code)?;
        Ok(stat)
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle is ours and not used after this.
        unsafe { (self.lib.functions.close)(self.ptr.as_ptr()) }
    }
}

/// A compiled BPF program, freed when dropped.
struct Program(BpfProgram, &'static Library);

impl Drop for Program {
    fn drop(&mut self) {
        // SAFETY: a program filled by pcap_compile (or still empty, which
        // pcap_freecode accepts).
        unsafe { (self.1.functions.freecode)(&mut self.0) }
    }
}

/// An interface libpcap can capture on (`pcap_findalldevs`).
#[derive(Debug, Clone)]
pub struct Device {
    pub name: String,
    pub description: Option<String>,
    pub up: bool,
    pub running: bool,
    pub loopback: bool,
}

impl Device {
    /// Every interface, in libpcap's order (tcpdump -D numbers them so).
    pub fn list() -> Result<Vec<Device>, Box<dyn std::error::Error + Send + Sync>> {
        let lib = library()?;
        let mut head: *mut ffi::PcapIf = std::ptr::null_mut();
        let mut errbuf = [0 as c_char; ffi::ERRBUF_SIZE];
        // SAFETY: out-parameter and error buffer of the right size.
        if unsafe { (lib.functions.findalldevs)(&mut head, errbuf.as_mut_ptr()) } < 0 {
            return Err(errbuf_text(&errbuf).into());
        }
        let mut devices = Vec::new();
        let mut node = head;
        while !node.is_null() {
            // SAFETY: a node of the list libpcap built; freed below, after.
            let entry = unsafe { &*node };
            devices.push(Device {
                // SAFETY: NUL-terminated strings or NULL.
                name: unsafe { c_string(entry.name) }.unwrap_or_default(),
                description: unsafe { c_string(entry.description) },
                up: entry.flags & ffi::IF_UP != 0,
                running: entry.flags & ffi::IF_RUNNING != 0,
                loopback: entry.flags & ffi::IF_LOOPBACK != 0,
            });
            node = entry.next;
        }
        if !head.is_null() {
            // SAFETY: the list pcap_findalldevs returned, freed once.
            unsafe { (lib.functions.freealldevs)(head) }
        }
        Ok(devices)
    }
}

/// A BPF filter compiled for one link type, applied to packets read from
/// files (`pcap_offline_filter`): the same compiler and engine as live.
pub struct OfflineFilter {
    program: Program,
    /// The dead handle the program was compiled on.
    _handle: Handle,
}

// SAFETY: the program and dead handle are only read after compilation.
unsafe impl Send for OfflineFilter {}

impl OfflineFilter {
    /// Compiles `expression` for packets of link type `dlt`.
    pub fn compile(
        dlt: u32,
        snaplen: u32,
        expression: &str,
    ) -> Result<OfflineFilter, Box<dyn std::error::Error + Send + Sync>> {
        let lib: &'static Library = library().map_err(|e: Unavailable| Box::new(e))?;
        let dlt = c_int::try_from(dlt).map_err(|_| format!("link type {dlt} out of range"))?;
        let snaplen = c_int::try_from(snaplen.clamp(1, 262_144)).unwrap_or(262_144);
        // SAFETY: plain integers; returns NULL only on allocation failure.
        let ptr = unsafe { (lib.functions.open_dead)(dlt, snaplen) };
        let ptr = NonNull::new(ptr).ok_or("libpcap could not allocate a filter handle")?;
        let mut handle = Handle { ptr, lib };
        let program = handle.compile(expression)?;
        Ok(OfflineFilter {
            program,
            _handle: handle,
        })
    }

    /// Whether a packet (`data` = its captured bytes, `orig_len` its length
    /// on the wire) passes the filter.
    pub fn matches(&self, data: &[u8], orig_len: u32) -> bool {
        let header = PktHdr {
            ts: libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
            caplen: u32::try_from(data.len()).unwrap_or(u32::MAX),
            len: orig_len,
        };
        // SAFETY: a compiled program, a header whose caplen is the length
        // of `data`.
        unsafe {
            (self.program.1.functions.offline_filter)(&self.program.0, &header, data.as_ptr()) != 0
        }
    }
}
