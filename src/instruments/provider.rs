//! Keeps the configured instruments out of exchangeInfo.

use super::instrument::{Instrument, InstrumentError};
use crate::binance::exchange_info::{ContractType, ExchangeInfo, SymbolStatus};
use crate::config::InstrumentSelection;
use crate::model::ids::InstrumentId;

/// Why the provider refused to start. Each names the instrument so the fix
/// (edit `load_ids`, wait for the listing) is obvious.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// A requested id is not listed by the venue.
    #[error(
        "instrument {id} is not listed by the venue's exchangeInfo (check the symbol and the -PERP suffix, and testnet vs production)"
    )]
    NotListed {
        /// The requested id.
        id: InstrumentId,
    },
    /// Listed, but the id's `-PERP` suffix disagrees with the contract type.
    #[error("instrument {id}: the venue lists {} as {contract_type}; use {expected}", .id.symbol)]
    WrongKind {
        /// The requested id.
        id: InstrumentId,
        /// The venue's contract type.
        contract_type: ContractType,
        /// The id that would match.
        expected: InstrumentId,
    },
    /// Listed but not open for orders.
    #[error("instrument {id} has status {status}, not TRADING; orders would be rejected")]
    NotTrading {
        /// The requested id.
        id: InstrumentId,
        /// The venue's status.
        status: SymbolStatus,
    },
    /// The venue's entry cannot be used.
    #[error("instrument {id}: {source}")]
    Unusable {
        /// The requested id.
        id: InstrumentId,
        /// Why (boxed: rare, and keeps the error small on the happy path).
        source: Box<InstrumentError>,
    },
}

/// The loaded instruments, looked up by id or symbol. Built once at start-up
/// (and on an exchangeInfo refresh); a linear scan over a handful of entries
/// beats hashing for the sizes traders load.
#[derive(Debug, Clone, Default)]
pub struct InstrumentProvider {
    instruments: Vec<Instrument>,
    /// Symbols skipped by `load_all` (not trading, unusable), for the log.
    skipped: Vec<String>,
}

impl InstrumentProvider {
    /// Selects instruments from exchangeInfo. With `load_ids`, every id must
    /// be listed, of the right contract kind and TRADING, or loading fails on
    /// the first that is not; the result keeps the config's order. With
    /// `load_all`, every usable TRADING symbol is loaded and the rest are
    /// reported by [`InstrumentProvider::skipped`].
    pub fn from_exchange_info(
        info: &ExchangeInfo,
        selection: &InstrumentSelection,
    ) -> Result<InstrumentProvider, ProviderError> {
        if selection.load_all {
            let mut out = InstrumentProvider::default();
            for s in &info.symbols {
                match Instrument::from_symbol_info(s) {
                    Ok(i) if i.is_trading() => out.instruments.push(i),
                    Ok(i) => out
                        .skipped
                        .push(format!("{}: status {}", s.symbol, i.status)),
                    Err(e) => out.skipped.push(e.to_string()),
                }
            }
            return Ok(out);
        }
        let mut instruments = Vec::with_capacity(selection.load_ids.len());
        for id in &selection.load_ids {
            let s = info
                .symbol(id.symbol.as_str())
                .ok_or(ProviderError::NotListed { id: *id })?;
            let inst =
                Instrument::from_symbol_info(s).map_err(|source| ProviderError::Unusable {
                    id: *id,
                    source: Box::new(source),
                })?;
            if inst.id.perpetual != id.perpetual {
                return Err(ProviderError::WrongKind {
                    id: *id,
                    contract_type: s.contract_type,
                    expected: inst.id,
                });
            }
            if !inst.is_trading() {
                return Err(ProviderError::NotTrading {
                    id: *id,
                    status: inst.status,
                });
            }
            instruments.push(inst);
        }
        Ok(InstrumentProvider {
            instruments,
            skipped: Vec::new(),
        })
    }

    /// The instrument with this id.
    pub fn get(&self, id: &InstrumentId) -> Option<&Instrument> {
        self.instruments.iter().find(|i| i.id == *id)
    }

    /// The instrument with this venue symbol (stream events carry symbols).
    pub fn by_symbol(&self, symbol: &str) -> Option<&Instrument> {
        self.instruments
            .iter()
            .find(|i| i.symbol.as_str() == symbol)
    }

    /// All loaded instruments, in config order.
    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    /// Number loaded.
    pub fn len(&self) -> usize {
        self.instruments.len()
    }

    /// True when nothing is loaded.
    pub fn is_empty(&self) -> bool {
        self.instruments.is_empty()
    }

    /// Symbols `load_all` skipped, with the reason.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }
}
