-- Opening a personal link finds its invitation through the link (personal_links, keyed by
-- token) and the recipient's (distribution, contact, step) key: an index of recipients by
-- token was one more random-keyed write per recipient, and nothing else read it.
DROP INDEX distribution_recipients_link;

-- Which organizations texted a phone is asked of text messages only (E.164, so '+…'): an
-- email recipient no longer writes an entry into this index at a random place.
DROP INDEX distribution_recipients_address_org;
CREATE INDEX distribution_recipients_address_org ON distribution_recipients(address, org_id)
    WHERE address LIKE '+%';
