fn main() {
    // Linking check for libpcap until the CLI lands.
    let _ = pcap::Device::list();
}
