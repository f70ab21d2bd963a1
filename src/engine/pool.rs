//! A preallocated slab of orders.
//!
//! Every live order sits in one slot allocated at start-up (`order_pool_size`
//! in the config), so submitting, tracking and retiring orders never touches
//! the allocator on the hot path. Threads pass small `Copy` [`OrderHandle`]s
//! instead of orders; the handle's generation catches a handle that outlived
//! its order (slot reused), which would otherwise silently address someone
//! else's order.

use crate::model::Order;

/// A reference to an order in an [`OrderPool`]: slot index plus the slot's
/// generation when the handle was issued. 8 bytes, `Copy`, channel-friendly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderHandle {
    index: u32,
    generation: u32,
}

impl OrderHandle {
    /// Slot index, for logs and dense side tables.
    pub fn index(self) -> usize {
        self.index as usize
    }
}

/// Why a pool operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// Every slot holds a live order: the configured `order_pool_size` is
    /// too small for the strategy's open-order count.
    #[error("order pool exhausted ({capacity} slots)")]
    Exhausted {
        /// The pool's fixed capacity.
        capacity: usize,
    },
    /// The handle's order was already released (the slot may hold another).
    #[error("stale order handle (slot {index})")]
    Stale {
        /// Slot index.
        index: usize,
    },
}

struct Slot {
    generation: u32,
    live: bool,
    order: Order,
}

/// Fixed-capacity order storage; see the module docs.
pub struct OrderPool {
    slots: Box<[Slot]>,
    free: Vec<u32>,
    live: usize,
}

impl OrderPool {
    /// Allocates `capacity` slots (and the free list) once.
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.min(u32::MAX as usize);
        let slots: Box<[Slot]> = (0..capacity)
            .map(|_| Slot {
                generation: 0,
                live: false,
                order: Order::blank(),
            })
            .collect();
        // Pop from the end: hand out low indices first (cache-friendly).
        let free: Vec<u32> = (0..capacity as u32).rev().collect();
        OrderPool {
            slots,
            free,
            live: 0,
        }
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Number of live orders.
    pub fn len(&self) -> usize {
        self.live
    }

    /// True when no order is live.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Stores `order` in a free slot. Never allocates.
    #[inline]
    pub fn acquire(&mut self, order: Order) -> Result<OrderHandle, PoolError> {
        let index = self.free.pop().ok_or(PoolError::Exhausted {
            capacity: self.slots.len(),
        })?;
        let Some(slot) = self.slots.get_mut(index as usize) else {
            return Err(PoolError::Stale {
                index: index as usize,
            });
        };
        slot.live = true;
        slot.order = order;
        self.live += 1;
        Ok(OrderHandle {
            index,
            generation: slot.generation,
        })
    }

    /// Frees the handle's slot and returns the order it held. Never
    /// allocates (the free list has room for every slot).
    #[inline]
    pub fn release(&mut self, h: OrderHandle) -> Result<Order, PoolError> {
        let slot = self.slot_mut(h)?;
        slot.live = false;
        slot.generation = slot.generation.wrapping_add(1);
        let order = slot.order;
        self.free.push(h.index);
        self.live -= 1;
        Ok(order)
    }

    /// The order behind a handle.
    #[inline]
    pub fn get(&self, h: OrderHandle) -> Result<&Order, PoolError> {
        match self.slots.get(h.index as usize) {
            Some(s) if s.live && s.generation == h.generation => Ok(&s.order),
            _ => Err(PoolError::Stale {
                index: h.index as usize,
            }),
        }
    }

    /// Mutable access to the order behind a handle.
    #[inline]
    pub fn get_mut(&mut self, h: OrderHandle) -> Result<&mut Order, PoolError> {
        self.slot_mut(h).map(|s| &mut s.order)
    }

    /// Live orders with their handles, for reconciliation sweeps.
    pub fn iter(&self) -> impl Iterator<Item = (OrderHandle, &Order)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            s.live.then_some((
                OrderHandle {
                    index: i as u32,
                    generation: s.generation,
                },
                &s.order,
            ))
        })
    }

    fn slot_mut(&mut self, h: OrderHandle) -> Result<&mut Slot, PoolError> {
        match self.slots.get_mut(h.index as usize) {
            Some(s) if s.live && s.generation == h.generation => Ok(s),
            _ => Err(PoolError::Stale {
                index: h.index as usize,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acquire_release_and_stale_handles() {
        let mut pool = OrderPool::with_capacity(2);
        let a = pool.acquire(Order::blank()).unwrap();
        let b = pool.acquire(Order::blank()).unwrap();
        assert_eq!(
            pool.acquire(Order::blank()),
            Err(PoolError::Exhausted { capacity: 2 })
        );
        assert_eq!(pool.len(), 2);
        pool.release(a).unwrap();
        assert!(matches!(pool.get(a), Err(PoolError::Stale { .. })));
        assert!(matches!(pool.release(a), Err(PoolError::Stale { .. })));
        let c = pool.acquire(Order::blank()).unwrap();
        assert_eq!(c.index(), a.index(), "slot reused");
        assert_ne!(c, a, "but the old handle does not address it");
        assert!(pool.get(c).is_ok() && pool.get(b).is_ok());
        assert_eq!(pool.iter().count(), 2);
    }
}
