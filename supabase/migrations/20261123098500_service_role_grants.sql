-- The service may connect as service_role instead of the owner (README: Deploying). The public
-- functions it calls run as the caller and reach these private helpers, which the first
-- migration's default privileges left executable by the owner only: record_outcome_v1 and
-- fail_message_v1 failed with "permission denied for function enqueue_event" under
-- service_role, so a message could never be processed or even failed, only retried.
-- tests/integration/test_service_role.py runs the whole service as service_role.

grant execute on function private.enqueue_event(uuid, text, jsonb, uuid, uuid),
                          private.record_budget_usage(uuid, integer, bigint, integer),
                          private.order_event_data(uuid, uuid),
                          private.log_security_event(uuid, text, text, text, jsonb),
                          private.current_actor()
  to service_role;
