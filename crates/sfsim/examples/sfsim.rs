//! Runs the local org from the command line until `sonde sfsim` exists:
//! `cargo run -p sfsim --example sfsim -- --seed demo --tls`.
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sfsim::cli::run(sfsim::cli::Args::parse()).await
}
