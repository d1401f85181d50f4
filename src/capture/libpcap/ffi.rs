//! libpcap's C interface, as far as btcsniff uses it, resolved at run time.
//!
//! Declarations follow pcap/pcap.h and pcap/bpf.h (libpcap 1.5 or later:
//! `pcap_set_immediate_mode` appeared in 1.5.0, 2013).

use std::ffi::{c_char, c_int, c_uchar, c_uint, c_void};

/// `PCAP_ERRBUF_SIZE`.
pub const ERRBUF_SIZE: usize = 256;
/// `PCAP_NETMASK_UNKNOWN`: filters that test broadcast addresses fail.
pub const NETMASK_UNKNOWN: c_uint = 0xffff_ffff;
/// `PCAP_ERROR`: see `pcap_geterr`.
pub const ERROR: c_int = -1;
/// `PCAP_ERROR_NO_SUCH_DEVICE`.
pub const ERROR_NO_SUCH_DEVICE: c_int = -5;
/// `PCAP_ERROR_PERM_DENIED`.
pub const ERROR_PERM_DENIED: c_int = -8;
/// `PCAP_ERROR_PROMISC_PERM_DENIED`.
pub const ERROR_PROMISC_PERM_DENIED: c_int = -11;
/// `PCAP_ERROR_BREAK`: `pcap_breakloop` was called.
pub const ERROR_BREAK: c_int = -2;
/// `pcap_if.flags` bits.
pub const IF_LOOPBACK: c_uint = 0x1;
pub const IF_UP: c_uint = 0x2;
pub const IF_RUNNING: c_uint = 0x4;

/// Opaque `pcap_t`.
#[repr(C)]
pub struct PcapT {
    _private: [u8; 0],
}

/// `struct pcap_pkthdr` (Linux: `struct timeval` of two longs).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PktHdr {
    pub ts: libc::timeval,
    pub caplen: c_uint,
    pub len: c_uint,
}

/// `struct pcap_stat` (the portable part).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Stat {
    pub ps_recv: c_uint,
    pub ps_drop: c_uint,
    pub ps_ifdrop: c_uint,
}

/// `struct bpf_program`.
#[repr(C)]
pub struct BpfProgram {
    pub bf_len: c_uint,
    pub bf_insns: *mut c_void,
}

/// `struct pcap_if` (`pcap_if_t`).
#[repr(C)]
pub struct PcapIf {
    pub next: *mut PcapIf,
    pub name: *mut c_char,
    pub description: *mut c_char,
    pub addresses: *mut c_void,
    pub flags: c_uint,
}

/// `pcap_handler`.
pub type Handler =
    unsafe extern "C" fn(user: *mut c_uchar, h: *const PktHdr, bytes: *const c_uchar);

/// Every function btcsniff calls, as plain pointers copied out of the
/// library (which is never unloaded: see `super::library`).
pub struct Functions {
    pub create: unsafe extern "C" fn(*const c_char, *mut c_char) -> *mut PcapT,
    pub set_snaplen: unsafe extern "C" fn(*mut PcapT, c_int) -> c_int,
    pub set_promisc: unsafe extern "C" fn(*mut PcapT, c_int) -> c_int,
    pub set_timeout: unsafe extern "C" fn(*mut PcapT, c_int) -> c_int,
    pub set_immediate_mode: unsafe extern "C" fn(*mut PcapT, c_int) -> c_int,
    pub set_buffer_size: unsafe extern "C" fn(*mut PcapT, c_int) -> c_int,
    pub activate: unsafe extern "C" fn(*mut PcapT) -> c_int,
    pub geterr: unsafe extern "C" fn(*mut PcapT) -> *mut c_char,
    pub statustostr: unsafe extern "C" fn(c_int) -> *const c_char,
    pub setnonblock: unsafe extern "C" fn(*mut PcapT, c_int, *mut c_char) -> c_int,
    pub compile:
        unsafe extern "C" fn(*mut PcapT, *mut BpfProgram, *const c_char, c_int, c_uint) -> c_int,
    pub setfilter: unsafe extern "C" fn(*mut PcapT, *mut BpfProgram) -> c_int,
    pub freecode: unsafe extern "C" fn(*mut BpfProgram),
    pub offline_filter:
        unsafe extern "C" fn(*const BpfProgram, *const PktHdr, *const c_uchar) -> c_int,
    pub datalink: unsafe extern "C" fn(*mut PcapT) -> c_int,
    pub datalink_val_to_name: unsafe extern "C" fn(c_int) -> *const c_char,
    pub get_selectable_fd: unsafe extern "C" fn(*mut PcapT) -> c_int,
    pub dispatch: unsafe extern "C" fn(*mut PcapT, c_int, Handler, *mut c_uchar) -> c_int,
    pub stats: unsafe extern "C" fn(*mut PcapT, *mut Stat) -> c_int,
    pub close: unsafe extern "C" fn(*mut PcapT),
    pub open_dead: unsafe extern "C" fn(c_int, c_int) -> *mut PcapT,
    pub findalldevs: unsafe extern "C" fn(*mut *mut PcapIf, *mut c_char) -> c_int,
    pub freealldevs: unsafe extern "C" fn(*mut PcapIf),
    pub lib_version: unsafe extern "C" fn() -> *const c_char,
}

impl Functions {
    /// Resolves every symbol; the first one missing is the error.
    ///
    /// # Safety
    /// `lib` must be libpcap, whose symbols have the signatures above.
    pub unsafe fn resolve(lib: &libloading::Library) -> Result<Functions, libloading::Error> {
        macro_rules! sym {
            ($name:literal) => {
                // SAFETY: the caller guarantees `lib` is libpcap, whose
                // symbol has the declared C signature.
                *unsafe { lib.get(concat!($name, "\0").as_bytes())? }
            };
        }
        Ok(Functions {
            create: sym!("pcap_create"),
            set_snaplen: sym!("pcap_set_snaplen"),
            set_promisc: sym!("pcap_set_promisc"),
            set_timeout: sym!("pcap_set_timeout"),
            set_immediate_mode: sym!("pcap_set_immediate_mode"),
            set_buffer_size: sym!("pcap_set_buffer_size"),
            activate: sym!("pcap_activate"),
            geterr: sym!("pcap_geterr"),
            statustostr: sym!("pcap_statustostr"),
            setnonblock: sym!("pcap_setnonblock"),
            compile: sym!("pcap_compile"),
            setfilter: sym!("pcap_setfilter"),
            freecode: sym!("pcap_freecode"),
            offline_filter: sym!("pcap_offline_filter"),
            datalink: sym!("pcap_datalink"),
            datalink_val_to_name: sym!("pcap_datalink_val_to_name"),
            get_selectable_fd: sym!("pcap_get_selectable_fd"),
            dispatch: sym!("pcap_dispatch"),
            stats: sym!("pcap_stats"),
            close: sym!("pcap_close"),
            open_dead: sym!("pcap_open_dead"),
            findalldevs: sym!("pcap_findalldevs"),
            freealldevs: sym!("pcap_freealldevs"),
            lib_version: sym!("pcap_lib_version"),
        })
    }
}
