//! Questions the connector and the local org ask about a parsed query.
