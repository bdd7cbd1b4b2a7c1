-- The per-distributor cap on webhook endpoints counts every endpoint of the distributor, whatever the
-- caller may read: run its check as the owner. As the caller, a role that may insert but not select
-- (anon) got "permission denied" from the count instead of the row-level-security refusal, and a role
-- whose policies hide some rows would have counted fewer than there are.
alter function private.limit_webhook_endpoints() security definer;
