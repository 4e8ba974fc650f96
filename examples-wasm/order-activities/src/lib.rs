//! `order-activities`: the activities of `order-flow`, as a WASM activity
//! component. Deterministic fake business logic: ids are derived from a
//! hash of the order id. `charge_card` declines card `4000-0000-0000-0002`
//! (non-retryable) and busy-loops `spin` iterations first, so tests can
//! catch it in flight.
//!
//! Receipts: `charge_card`, `ship_order` and `refund_payment` keep a JSON
//! receipt per order in the instance's sandbox, `receipts/<order_id>.json`
//! (each adds its part to what is there), through WASI. A host that grants
//! no sandbox directory gets no receipts.

use continuum_sdk::activity::sandbox;
use continuum_sdk::prelude::*;
use serde_json::{json, Map, Value};

const DECLINED_CARD: &str = "4000-0000-0000-0002";

/// FNV-1a, 64 bits: a stable hash for fake ids.
fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

fn id(prefix: &str, parts: &[&str]) -> String {
    format!("{prefix}_{:016x}", fnv(parts))
}

/// Merges `part` into `receipts/<order_id>.json` under `key` (a retry
/// overwrites its own part, so it is idempotent).
fn record_receipt(order_id: &str, key: &str, part: &Value) -> Result<(), ActivityError> {
    if !sandbox::available() {
        return Ok(());
    }
    if order_id.is_empty() || order_id.contains(['/', '\\']) || order_id.starts_with('.') {
        return Err(ActivityError::non_retryable(format!("order id `{order_id}` cannot name a receipt file")));
    }
    let path = format!("receipts/{order_id}.json");
    let mut receipt: Map<String, Value> = match sandbox::read_file(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => Map::new(),
    };
    receipt.insert("order_id".into(), json!(order_id));
    receipt.insert(key.into(), part.clone());
    let bytes = serde_json::to_vec_pretty(&receipt)
        .map_err(|e| ActivityError::non_retryable(format!("encoding the receipt: {e}")))?;
    sandbox::write_file(&path, &bytes)?;
    Ok(())
}

#[derive(Deserialize)]
struct ReserveStock {
    order_id: String,
    sku: String,
    quantity: u32,
}

fn reserve_stock(input: ReserveStock) -> Result<Value, ActivityError> {
    if input.quantity == 0 {
        return Err(ActivityError::non_retryable("quantity must be positive"));
    }
    Ok(json!({
        "reservation_id": id("res", &[&input.order_id, &input.sku]),
        "sku": input.sku,
        "quantity": input.quantity,
    }))
}

#[derive(Deserialize)]
struct ChargeCard {
    order_id: String,
    card: String,
    amount_cents: u64,
    #[serde(default)]
    spin: u64,
}

fn charge_card(input: ChargeCard) -> Result<Value, ActivityError> {
    let mut acc = 0u64;
    for i in 0..input.spin {
        acc = std::hint::black_box(acc.wrapping_add(i));
    }
    std::hint::black_box(acc);
    if input.card == DECLINED_CARD {
        return Err(ActivityError::non_retryable(format!("card {} declined", input.card)).with_code("card_declined"));
    }
    let charge = json!({
        "charge_id": id("ch", &[&input.order_id, &input.card]),
        "amount_cents": input.amount_cents,
    });
    record_receipt(&input.order_id, "charge", &charge)?;
    Ok(charge)
}

#[derive(Deserialize)]
struct ShipOrder {
    order_id: String,
    #[serde(default)]
    reservation_id: String,
}

fn ship_order(input: ShipOrder) -> Result<Value, ActivityError> {
    let h = fnv(&[&input.order_id, &input.reservation_id]);
    let shipment = json!({ "tracking": format!("TRK{:012}", h % 1_000_000_000_000) });
    record_receipt(&input.order_id, "shipment", &shipment)?;
    Ok(shipment)
}

#[derive(Deserialize)]
struct RefundPayment {
    order_id: String,
    charge_id: String,
    amount_cents: u64,
}

fn refund_payment(input: RefundPayment) -> Result<Value, ActivityError> {
    let refund = json!({
        "refund_id": id("re", &[&input.order_id, &input.charge_id]),
        "amount_cents": input.amount_cents,
    });
    record_receipt(&input.order_id, "refund", &refund)?;
    Ok(refund)
}

#[derive(Deserialize)]
struct ReleaseStock {
    order_id: String,
    reservation_id: String,
}

fn release_stock(input: ReleaseStock) -> Result<Value, ActivityError> {
    Ok(json!({ "released": input.reservation_id, "order_id": input.order_id }))
}

continuum_sdk::activities! {
    "reserve_stock" => reserve_stock,
    "charge_card" => charge_card,
    "ship_order" => ship_order,
    "refund_payment" => refund_payment,
    "release_stock" => release_stock,
}
