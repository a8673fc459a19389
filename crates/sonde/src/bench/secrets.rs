//! `sonde bench secrets`: values re-sealed per second by a key rotation (`sonde secrets
//! rotate`'s work, `engine::secrets_rotation`) over a database holding N sealed values.

use engine::secrets::SecretBox;
use engine::secrets_rotation::reseal_all;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct SecretsArgs {
    /// Sealed values in the database.
    #[arg(long, default_value_t = 10_000)]
    pub values: usize,
    /// Values re-sealed per transaction (the rotate command's `--batch`).
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Benchmark on this PostgreSQL URL (default: SQLite in a temporary directory).
    #[arg(long, env = "SONDE_BENCH_POSTGRES_URL")]
    pub postgres: Option<String>,
}

pub async fn run(args: SecretsArgs) -> anyhow::Result<()> {
    let (store, backend, tmp) = match &args.postgres {
        Some(url) => (
            store::Store::connect_fresh_schema(url, "bench").await?.0,
            "PostgreSQL",
            None,
        ),
        None => {
            let tmp =
                std::env::temp_dir().join(format!("sonde-bench-{}", store::ids::random_token(8)));
            (
                store::Store::open_data_dir(&tmp).await?,
                "SQLite",
                Some(tmp),
            )
        }
    };
    store.migrate().await?;
    let old_key = rand::random::<[u8; 32]>();
    let old = SecretBox::from_key(&old_key);
    let seeding = Instant::now();
    for i in 0..args.values {
        // Instance secrets: the one sealed table without foreign keys, so any number of rows.
        let value = old.seal(&store::ids::random_token(48));
        store
            .create_instance_secret(&format!("bench-{i:07}"), &value)
            .await?;
    }
    eprintln!(
        "{backend}: {} sealed values written in {:.1} s",
        args.values,
        seeding.elapsed().as_secs_f64()
    );
    // The new key, still opening the old one's values, as during a rollout.
    let new = SecretBox::from_key(&rand::random::<[u8; 32]>()).accepting(&old_key);
    let report = reseal_all(&store, &new, args.batch, |_| {}).await?;
    anyhow::ensure!(report.finished(), "the rotation did not finish: {report:?}");
    println!(
        "{backend}: {} values re-sealed in {:.2} s = {:.0} values/s (batches of {}, {} pass(es))",
        report.resealed,
        report.seconds,
        report.rate(),
        args.batch,
        report.passes
    );
    store.close().await;
    if let Some(tmp) = tmp {
        let _ = std::fs::remove_dir_all(tmp);
    }
    Ok(())
}
