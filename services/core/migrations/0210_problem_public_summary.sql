-- A summary the enterprise writes for a confidential problem: what experts outside the
-- organization are shown (in their inbox) instead of the withheld text. Without one, a
-- confidential problem is left out of inboxes rather than shown as a blank card.
ALTER TABLE problems ADD COLUMN public_summary text;
