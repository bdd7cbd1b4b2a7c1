-- Drop what no worker calls any more: the first three claim functions (the worker's `claim_messages`
-- query calls claim_messages_v4), the intake function from before encryption at rest (the intake
-- calls ingest_message_v2), and the queue index of the first claim, replaced by
-- messages_distributor_queue_idx (20261123097000_rate_limits.sql) when claims became per distributor.
-- Checked: worker/sql/queries.sql, webhooks/sql/queries.sql, the demo's queries and the tests call none
-- of them, and no function body calls them.

drop function public.claim_messages_v1(text, integer, integer);
drop function public.claim_messages_v2(text, integer, integer, integer);
drop function public.claim_messages_v3(text, integer, integer, integer);
drop function public.ingest_message_v1(uuid, text, text, text, text, text, text, jsonb, timestamptz, uuid, boolean,
                                       text[], jsonb);
drop index public.messages_queue_idx;
