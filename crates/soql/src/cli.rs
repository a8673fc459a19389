//! Pure helpers behind `sonde soql fmt|check`.
