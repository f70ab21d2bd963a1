fn main() {
    std::process::exit(binance_exec::cli::main());
}
