//! The self-signed certificate for `--tls`: a local CA and a server certificate for localhost
//! and 127.0.0.1, written to the state directory and reused across restarts so a client that
//! trusts the CA keeps trusting the org.

use std::path::{Path, PathBuf};

pub struct TlsFiles {
    pub ca_cert: PathBuf,
    pub cert_chain_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
}

pub fn ensure(dir: &Path, host: &str) -> anyhow::Result<TlsFiles> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let tls = dir.join("tls");
    std::fs::create_dir_all(&tls)?;
    let ca_path = tls.join("ca.pem");
    let cert_path = tls.join("server.pem");
    let key_path = tls.join("server-key.pem");
    if ca_path.exists() && cert_path.exists() && key_path.exists() {
        return Ok(TlsFiles {
            cert_chain_pem: std::fs::read(&cert_path)?,
            key_pem: std::fs::read(&key_path)?,
            ca_cert: ca_path,
        });
    }
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "sfsim local CA");
    ca.distinguished_name
        .push(DnType::OrganizationName, "sfsim");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key)?;
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    if !names.iter().any(|n| n == host) {
        names.push(host.to_string());
    }
    let leaf_key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(names)?;
    leaf.distinguished_name.push(DnType::CommonName, "sfsim");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key)?;
    let chain = format!("{}{}", leaf_cert.pem(), ca_cert.pem());
    std::fs::write(&ca_path, ca_cert.pem())?;
    std::fs::write(&cert_path, &chain)?;
    std::fs::write(&key_path, leaf_key.serialize_pem())?;
    Ok(TlsFiles {
        ca_cert: ca_path,
        cert_chain_pem: chain.into_bytes(),
        key_pem: leaf_key.serialize_pem().into_bytes(),
    })
}
