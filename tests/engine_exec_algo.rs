//! Conditional orders and venue-generated fills through the execution
//! thread against the simulator: a STOP_MARKET goes to the algo service, is
//! triggered by a price move (ALGO_UPDATE hands over to the child order) and
//! fills; a venue liquidation (`autoclose-…`, x=CALCULATED) reaches the
//! strategy as an external fill marked as a liquidation. Bounded waits.

mod sim_config;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use binance_exec::config::Config;
use binance_exec::engine::strategy::{BookTicker, Context, OrderOptions, Strategy};
use binance_exec::engine::{Engine, EngineOptions};
use binance_exec::model::fill::FillKind;
use binance_exec::model::ids::ClientOrderId;
use binance_exec::model::{OrderEvent, OrderEventKind, OrderState, Price, Quantity, Side};
use binance_exec::sim::SimSettings;
use binance_exec::sim::transport::{SimHandle, SimServer};
use crossbeam_channel::{Receiver, Sender};

fn config(sim: &SimHandle) -> Config {
    sim_config::config_for(sim, "", "")
}

/// Posts a JSON control request to the simulator (loopback, one shot).
fn control(sim: &SimHandle, path: &str, json: &str) -> String {
    let mut s = TcpStream::connect(sim.local_addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[derive(Debug, PartialEq, Eq)]
enum Step {
    StopAccepted(Price),
    Rebought,
}

struct StopThenLiquidation {
    tell: Sender<Step>,
    entry: Option<ClientOrderId>,
    stop: Option<ClientOrderId>,
    rebuy: Option<ClientOrderId>,
    bid: Price,
    triggered: bool,
    stop_filled: bool,
}

impl Strategy for StopThenLiquidation {
    fn on_book_ticker<C: Context>(&mut self, ctx: &mut C, t: &BookTicker) {
        if self.entry.is_some() {
            return;
        }
        self.bid = t.bid_price;
        let q: Quantity = "0.01".parse().unwrap_or(Quantity::ZERO);
        if let Ok(o) = ctx
            .orders()
            .market(t.instrument, Side::Buy, q, OrderOptions::default())
        {
            self.entry = ctx.submit(o).ok();
        }
    }

    fn on_order_event<C: Context>(&mut self, ctx: &mut C, e: &OrderEvent) {
        let id = Some(e.client_id);
        let q: Quantity = "0.01".parse().unwrap_or(Quantity::ZERO);
        match e.kind {
            OrderEventKind::Filled(_) if id == self.entry => {
                let trigger = Price::from_raw(self.bid.raw() - 1_000 * 100_000_000);
                if let Ok(o) = ctx.orders().stop_market(
                    e.instrument,
                    Side::Sell,
                    q,
                    trigger,
                    OrderOptions::reduce_only(),
                ) {
                    self.stop = ctx.submit(o).ok();
                }
            }
            OrderEventKind::Accepted if id == self.stop => {
                let _ = self.tell.send(Step::StopAccepted(self.bid));
            }
            OrderEventKind::Triggered { .. } if id == self.stop => self.triggered = true,
            OrderEventKind::Filled(_) if id == self.stop => {
                self.stop_filled = true;
                if let Ok(o) =
                    ctx.orders()
                        .market(e.instrument, Side::Buy, q, OrderOptions::default())
                {
                    self.rebuy = ctx.submit(o).ok();
                }
            }
            OrderEventKind::Filled(_) if id == self.rebuy => {
                let _ = self.tell.send(Step::Rebought);
            }
            OrderEventKind::ExternalFill(f) if f.kind == FillKind::Liquidation => {
                ctx.request_stop();
            }
            _ => {}
        }
    }
}

#[test]
fn stop_market_triggers_and_fills_then_liquidation_is_an_external_fill() {
    let sim = SimServer::start(&SimSettings::default()).expect("simulator starts");
    let (tx, rx): (Sender<Step>, Receiver<Step>) = crossbeam_channel::bounded(4);
    let strat = StopThenLiquidation {
        tell: tx,
        entry: None,
        stop: None,
        rebuy: None,
        bid: Price::ZERO,
        triggered: false,
        stop_filled: false,
    };
    let h = Engine::start(config(&sim), strat, EngineOptions::default()).expect("engine starts");
    let Ok(Step::StopAccepted(bid)) = rx.recv_timeout(Duration::from_secs(10)) else {
        let s = h.stop().expect("summary");
        panic!("stop order not accepted: {:#?}", s.events);
    };
    let down = Price::from_raw(bid.raw() - 2_000 * 100_000_000);
    let r = control(
        &sim,
        "/sim/price",
        &format!(r#"{{"symbol":"BTCUSDT","last":"{down}"}}"#),
    );
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(Step::Rebought));
    let r = control(
        &sim,
        "/sim/inject",
        r#"{"kind":"liquidation","symbol":"BTCUSDT"}"#,
    );
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let s = h
        .wait(Duration::from_secs(10))
        .expect("strategy stops on the liquidation");
    let stop = s
        .orders
        .iter()
        .find(|o| o.is_conditional())
        .expect("the stop order is in the summary");
    assert_eq!(stop.state, OrderState::Filled, "{stop:?}\n{:#?}", s.events);
    assert!(
        stop.algo_id.is_some() && stop.child_venue_order_id.is_some(),
        "{stop:?}"
    );
    assert!(
        s.events
            .iter()
            .any(|l| l.contains("external fill") && l.contains("Liquidation")),
        "{:#?}",
        s.events
    );
    let pos = s
        .positions
        .iter()
        .find(|p| p.symbol.as_str() == "BTCUSDT")
        .expect("position");
    assert!(
        pos.amount.is_zero(),
        "liquidation closed the position: {pos:?}"
    );
}
