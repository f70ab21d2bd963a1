// Count heap allocations per thread, so `binance-exec bench` can report
// allocations per order cycle (one thread-local add per allocation).
#[global_allocator]
static ALLOC: binance_exec::bench::alloc::CountingAllocator =
    binance_exec::bench::alloc::CountingAllocator;

fn main() {
    std::process::exit(binance_exec::cli::main());
}
