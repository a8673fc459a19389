//! `sonde salesforce package`: writes the install kit (`salesforce_package`) into a directory
//! an admin deploys with Salesforce's CLI, and says what to do next.

use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum SalesforceCommand {
    /// Write the Salesforce metadata that puts Sonde's panel on Contact, Lead, Account, Case
    /// and Campaign pages (a connected app with Canvas settings, a Lightning component, record
    /// pages), as an SFDX project in source format.
    Package(PackageArgs),
}

#[derive(Args, Debug)]
pub struct PackageArgs {
    /// Sonde's public URL, as Salesforce users reach it (e.g. https://sonde.example.com).
    #[arg(long, env = "SONDE_PUBLIC_URL")]
    pub url: String,
    /// Where to write the project.
    #[arg(long, default_value = "./sonde-salesforce")]
    pub out: PathBuf,
    /// The connected app's name, as Salesforce shows it (its API name is derived from it).
    #[arg(long, default_value = "Sonde")]
    pub name: String,
    /// Who Salesforce contacts about the connected app.
    #[arg(long, default_value = "admin@example.com")]
    pub contact_email: String,
}

pub fn run(cmd: SalesforceCommand) -> anyhow::Result<()> {
    match cmd {
        SalesforceCommand::Package(args) => package(&args),
    }
}

fn package(args: &PackageArgs) -> anyhow::Result<()> {
    let files = salesforce_package::generate(&salesforce_package::PackageOptions {
        url: args.url.clone(),
        name: args.name.clone(),
        contact_email: args.contact_email.clone(),
    })?;
    for f in &files {
        let path = args.out.join(&f.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&path, &f.contents)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    print_next_steps(&args.out, &args.url);
    Ok(())
}

fn print_next_steps(out: &Path, url: &str) {
    let url = url.trim_end_matches('/');
    println!(
        "\nNext steps (docs/salesforce-setup.md has the details):\n\
         1. Deploy:  cd {dir} && sf org login web --alias sonde-org && sf project deploy start --target-org sonde-org\n\
         2. In Salesforce Setup > App Manager > the app > View: copy the consumer key and secret, then start Sonde with\n\
         \x20  SONDE_SALESFORCE_CLIENT_ID=<consumer key> SONDE_SALESFORCE_CLIENT_SECRET=<consumer secret> SONDE_PUBLIC_URL={url}\n\
         3. Manage the app: Permitted Users = \"Admin approved users are pre-authorized\"; add the profiles or\n\
         \x20  permission sets of the people who use the panel.\n\
         4. Activate the generated record pages (Lightning App Builder > Activation), or drop the Sonde panel\n\
         \x20  component on your own Contact, Lead, Account, Case and Campaign pages.\n\
         5. In Sonde, link the org (Salesforce > Link an org); each Salesforce user needs a Sonde account with the same email.",
        dir = out.display(),
    );
}
