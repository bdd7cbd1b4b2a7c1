-- Runtime queries of the webhooks room: inbound intake lookups and the outbound delivery queue.
-- Loaded together with worker/sql/queries.sql (names must not clash).

-- integration_by_account --
-- An enabled channel integration by kind and external account id (WhatsApp phone_number_id or channel key)
select id::text, distributor_id::text, kind, channel, external_account_id, app_secret, signing_secret
  from public.external_integrations
 where kind = %(kind)s and external_account_id = %(account)s and enabled;

-- whatsapp_integration_by_verify_token --
-- The enabled WhatsApp integration whose verify token the subscription handshake presents
select id::text, distributor_id::text, verify_token
  from public.external_integrations
 where kind = 'whatsapp_cloud' and enabled and verify_token = %(token)s
 limit 1;

-- record_message_status --
-- Record a delivery receipt (sent, delivered, read, failed) of a message we sent; the reply only moves forward
select public.record_message_status_v2(%(distributor_id)s, %(integration_id)s, %(external_id)s, %(status)s, %(at)s,
                                       %(error_code)s, %(error)s);

-- log_inbound_security_event --
-- Append a security event of the inbound intake (e.g. inbound_signature_failed) to security_audit_log
select public.log_security_event_v1(%(distributor_id)s, %(event_type)s, %(severity)s, %(actor)s, %(details)s::jsonb) as id;

-- claim_deliveries --
-- Lease a batch of due webhook deliveries round-robin across distributors, at most max_concurrency in flight per endpoint
select delivery_id, distributor_id, endpoint_id, url, secrets, event_id, event_type, payload, attempts
  from public.claim_deliveries_v2(%(worker_id)s, %(batch)s, %(lease_seconds)s);

-- finish_deliveries --
-- Record a batch of attempt results (one jsonb array) and the endpoints' health in one round trip
select finished, disabled_endpoints
  from public.finish_deliveries_v1(%(worker_id)s, %(results)s::jsonb, %(failing_window_seconds)s);

-- replay_deliveries --
-- Queue finished deliveries again: one by id, or the dead and failed ones of a time range
select public.replay_deliveries_v1(%(delivery_id)s, %(since)s, %(until)s, %(endpoint_id)s, %(distributor_id)s) as replayed;

-- count_due_deliveries --
-- Deliveries due now, not leased, of enabled endpoints (is the delivery loop idle?)
select count(*)::integer as due
  from public.webhook_deliveries d
  join public.webhook_endpoints e on e.distributor_id = d.distributor_id and e.id = d.endpoint_id
 where d.state = 'pending' and e.enabled and d.next_attempt_at <= now()
   and (d.locked_until is null or d.locked_until < now());

-- claim_replies --
-- Lease due replies round-robin across distributors, of enabled integrations that are not failing
select reply_id, distributor_id, message_id, integration_id, integration_kind, channel, account, access_token,
       access_token_encrypted, signing_secret, integration_settings, handle_encrypted, handle, body, language, kind,
       order_id, attempts, via_template, template_name, template_language
  from public.claim_replies_v1(%(worker_id)s, %(batch)s, %(lease_seconds)s, %(per_distributor)s);

-- finish_replies --
-- Record a batch of reply attempt results (one jsonb array); returns integrations marked failing
select finished, failing_integrations from public.finish_replies_v1(%(worker_id)s, %(results)s::jsonb);

-- count_due_replies --
-- Replies due now, not leased, of enabled integrations that are not failing (is the reply sender idle?)
select count(*)::integer as due
  from public.reply_deliveries r
  join public.external_integrations i on i.distributor_id = r.distributor_id and i.id = r.integration_id
 where r.status = 'queued' and r.next_attempt_at <= now() and r.locked_by is null and i.enabled
   and i.failing_since is null;

-- set_integration_token --
-- Store an integration's access token (sealed by the service); a failing integration resumes
select public.set_integration_token_v1(%(distributor_id)s, %(integration_id)s, %(token_encrypted)s) as was_failing;

-- link_button_reply --
-- Map a reply-button tap (confirm:<order_id> / change:<order_id>) back to its order (the customer's own only)
select public.link_button_reply_v1(%(distributor_id)s, %(message_id)s, %(reply_id)s)::text as order_id;
