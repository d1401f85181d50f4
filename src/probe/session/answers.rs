//! Matching answers (tx, block, notfound) to the requests and verifying
//! them.

use super::Session;
use crate::p2p::frame::Command;
use crate::p2p::message::{Block, Inventory, Transaction};
use crate::p2p::{DecodeError, Hash256};
use crate::probe::Request;
use crate::probe::failure::Failure;
use crate::probe::outcome::Status;
use crate::probe::verify::{self, Mismatch};

impl Session<'_, '_> {
    /// The pending request `kind` answers: the one with this hash, else
    /// the oldest pending one of that kind (answers come in order).
    fn pending_for(&self, is_kind: fn(&Request) -> bool, hash: &Hash256) -> Option<usize> {
        let pending = |(i, r): (usize, &Request)| {
            (is_kind(r) && self.statuses.get(i) == Some(&Status::Pending)).then_some(i)
        };
        let requests = self.config.requests.iter().enumerate();
        requests
            .clone()
            .filter_map(pending)
            .find(|&i| self.config.requests.get(i).map(Request::hash) == Some(hash))
            .or_else(|| requests.filter_map(pending).next())
    }

    pub(super) fn resolve(&mut self, index: usize, status: Status) {
        let Some(request) = self.config.requests.get(index).copied() else {
            return;
        };
        let text = status.describe(&request, self.config.timeout);
        if let Some(slot) = self.statuses.get_mut(index) {
            *slot = status;
        }
        self.observer.note(&text);
    }

    pub(super) fn on_tx(&mut self, tx: &Transaction<'_>) {
        let is_tx: fn(&Request) -> bool = |r| matches!(r, Request::Tx(_));
        let Some(i) = self
            .getdata_sent()
            .then(|| self.pending_for(is_tx, &tx.txid))
            .flatten()
        else {
            self.observer
                .note(&format!("ignored tx {} (not asked for)", tx.txid));
            return;
        };
        let Some(requested) = self.config.requests.get(i).map(|r| *r.hash()) else {
            return;
        };
        let status = match verify::verify_tx(tx, &requested) {
            Ok(()) => Status::Verified { bytes: tx.size },
            Err(m) => Status::Mismatch(m),
        };
        self.resolve(i, status);
    }

    pub(super) fn on_block(&mut self, block: &Block<'_>, payload: &[u8]) {
        let is_block: fn(&Request) -> bool = |r| matches!(r, Request::Block(_));
        let hash = verify::block_hash(payload).unwrap_or(block.header.hash);
        let Some(i) = self
            .getdata_sent()
            .then(|| self.pending_for(is_block, &hash))
            .flatten()
        else {
            self.observer
                .note(&format!("ignored block {hash} (not asked for)"));
            return;
        };
        let Some(requested) = self.config.requests.get(i).map(|r| *r.hash()) else {
            return;
        };
        let status = match verify::verify_block(block, payload, &requested) {
            Ok(()) => Status::Verified {
                bytes: payload.len(),
            },
            Err(m) => Status::Mismatch(m),
        };
        self.resolve(i, status);
    }

    pub(super) fn on_notfound(&mut self, inv: &Inventory<'_>) {
        for item in inv.inventory.iter() {
            let found = self.config.requests.iter().enumerate().position(|(i, r)| {
                self.statuses.get(i) == Some(&Status::Pending)
                    && r.answered_by_inv(item.type_id, &item.hash)
            });
            if let Some(i) = found {
                self.resolve(i, Status::NotFound);
            }
        }
    }

    pub(super) fn on_undecodable(&mut self, command: &Command, error: &DecodeError) {
        let (name, is_kind): (&'static str, fn(&Request) -> bool) = match command.as_bytes() {
            b"version" => {
                self.fail(Failure::UndecodableVersion {
                    error: error.to_string(),
                });
                return;
            }
            b"tx" => ("tx", |r| matches!(r, Request::Tx(_))),
            b"block" => ("block", |r| matches!(r, Request::Block(_))),
            // The finding is in the output; the probe does not need it.
            _ => return,
        };
        let none = Hash256::default();
        if let Some(i) = self
            .getdata_sent()
            .then(|| self.pending_for(is_kind, &none))
            .flatten()
        {
            self.resolve(
                i,
                Status::Mismatch(Mismatch::Undecodable {
                    command: name,
                    error: error.to_string(),
                }),
            );
        }
    }
}
