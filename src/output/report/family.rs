//! The report's command families: what a person looking at a chart of a
//! capture wants told apart (the seven colours). Finer than the
//! text output's colouring in one place (inventory apart from
//! transactions), coarser in another (keep-alive and legacy are "other").

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// version, verack and the feature negotiation around them.
    Handshake,
    /// inv, getdata, notfound, mempool.
    Inventory,
    /// tx.
    Transactions,
    /// Blocks and headers, compact blocks, merkle blocks.
    Blocks,
    /// addr, addrv2, getaddr.
    Addresses,
    /// BIP37 bloom filters and BIP157 compact filters.
    Filters,
    /// ping, pong, reject, alert and commands btcsniff does not know.
    Other,
}

impl Family {
    pub const ALL: [Family; 7] = [
        Family::Handshake,
        Family::Inventory,
        Family::Transactions,
        Family::Blocks,
        Family::Addresses,
        Family::Filters,
        Family::Other,
    ];

    pub fn of(command: &[u8]) -> Family {
        match command {
            b"version" | b"verack" | b"sendaddrv2" | b"wtxidrelay" | b"sendtxrcncl"
            | b"sendheaders" | b"sendcmpct" | b"feefilter" => Family::Handshake,
            b"inv" | b"getdata" | b"notfound" | b"mempool" => Family::Inventory,
            b"tx" => Family::Transactions,
            b"block" | b"headers" | b"getblocks" | b"getheaders" | b"cmpctblock"
            | b"getblocktxn" | b"blocktxn" | b"merkleblock" => Family::Blocks,
            b"addr" | b"addrv2" | b"getaddr" => Family::Addresses,
            b"filterload" | b"filteradd" | b"filterclear" | b"getcfilters" | b"cfilter"
            | b"getcfheaders" | b"cfheaders" | b"getcfcheckpt" | b"cfcheckpt" => Family::Filters,
            _ => Family::Other,
        }
    }

    /// Index into [`Family::ALL`] (and the report's per-family arrays).
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::Handshake => "handshake",
            Family::Inventory => "inventory",
            Family::Transactions => "transactions",
            Family::Blocks => "blocks",
            Family::Addresses => "addresses",
            Family::Filters => "filters",
            Family::Other => "other",
        }
    }
}

/// Messages that carry a block (or most of one): drawn as bars in the flow
/// timeline, not as ticks.
pub fn is_block_transfer(command: &[u8]) -> bool {
    matches!(
        command,
        b"block" | b"cmpctblock" | b"blocktxn" | b"merkleblock"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_all() {
        for (i, f) in Family::ALL.iter().enumerate() {
            assert_eq!(f.index(), i);
        }
        assert_eq!(Family::of(b"tx"), Family::Transactions);
        assert_eq!(Family::of(b"inv"), Family::Inventory);
        assert_eq!(Family::of(b"<script>"), Family::Other);
    }
}
