-- Duplicate addresses are looked up per distribution and step (`Store::taken_addresses`).
-- With the step missing from this index SQLite chose the (distribution, step, state) index
-- instead and read every recipient written so far at each batch of 500: writing a
-- distribution's audience took time growing with the square of its size.
DROP INDEX distribution_recipients_address;
CREATE INDEX distribution_recipients_address ON distribution_recipients(distribution_id, step, address_key);
