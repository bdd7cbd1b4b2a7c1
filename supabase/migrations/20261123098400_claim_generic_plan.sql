-- claim_messages_v4 runs its statements with generic plans, planned once per connection instead
-- of on every call.
--
-- plpgsql plans each statement with its parameters for the first five calls, then keeps a generic
-- plan only if its estimated cost is no worse than the custom plans'. For the claim it never is
-- (the generic estimate assumes ~1,000 picked rows), so every claim was planned afresh: 0.94 ms
-- per claim of 1 and its completion, 0.50 ms with the generic plan (measured, 2 cores). The claim
-- addresses messages by key in every statement, and test_worker.py checks that its generic plan
-- reads messages by index only.
--
-- Tried on the other per-message functions too (record_outcome_v1, ingest_message_v2, the
-- delivery queue's): end-to-end worker throughput did not improve (393-432 messages/s against
-- 427-484 without, within the noise of this machine), so they keep the default.

alter function public.claim_messages_v4(text, integer, integer, integer) set plan_cache_mode = force_generic_plan;
